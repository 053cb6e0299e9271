//! `mnist`: train, evaluate and query the classic MNIST classifier from the command line.

mod bench;
mod output;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use mnist_mlp::image::check_finite;
use mnist_mlp::model::check_save_target;
use mnist_mlp::prelude::*;
use mnist_mlp::scores;
use mnist_mlp::train::advice;
use output::Output;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Parser)]
#[command(
    name = "mnist",
    version,
    about = "The classic MNIST digit classifier (784 → 128 → 64 → 10 by default) on Candle"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a fresh model, evaluate it on the test set every epoch, and save it.
    Train {
        #[command(flatten)]
        recipe: Recipe,
        /// Folder to save `model.safetensors` and `config.json` into.
        #[arg(long)]
        out: PathBuf,
    },
    /// Train and time one configuration; prints one JSON object for `scripts/bench`.
    Bench {
        #[command(flatten)]
        recipe: Recipe,
    },
    /// Evaluate a saved model on the test set.
    Evaluate {
        #[arg(long)]
        model: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
    /// Predict your own digit images (PNG, JPEG, BMP, GIF, WebP, TIFF), prepared like MNIST; without
    /// files, the original notebook's sample prediction on a test image (logits → softmax → argmax).
    Predict {
        #[arg(long)]
        model: PathBuf,
        /// Image files to classify.
        files: Vec<PathBuf>,
        /// With files: print one JSON array of {"file", "digit", "probabilities"}.
        #[arg(long, requires = "files")]
        json: bool,
        /// Without files: the index of the test image (0–9999).
        #[arg(long, default_value_t = 0, conflicts_with = "files")]
        index: usize,
        #[command(flatten)]
        data: DataArg,
    },
}

/// What `train` and `bench` both take: the model and the recipe.
#[derive(clap::Args)]
struct Recipe {
    /// Units of each hidden layer, e.g. 256,128; `none` (or "") for softmax regression.
    #[arg(long, value_name = "UNITS", default_value_t = Hidden(MlpConfig::default().hidden))]
    hidden: Hidden,
    #[arg(long, default_value_t = TrainConfig::default().epochs)]
    epochs: usize,
    #[arg(long, default_value_t = TrainConfig::default().batch_size)]
    batch_size: usize,
    #[arg(long, default_value_t = TrainConfig::default().learning_rate)]
    learning_rate: f64,
    /// Seeds the initial weights and the shuffling.
    #[arg(long, default_value_t = MlpConfig::default().seed)]
    seed: u64,
    /// How gradients are computed.
    #[arg(long, value_enum, default_value = "manual")]
    backward: BackwardArg,
    #[command(flatten)]
    data: DataArg,
}

impl Recipe {
    fn model(&self) -> MlpConfig {
        MlpConfig { hidden: self.hidden.0.clone(), seed: self.seed }
    }

    fn training(&self) -> TrainConfig {
        let (epochs, batch_size, learning_rate) = (self.epochs, self.batch_size, self.learning_rate);
        TrainConfig { epochs, batch_size, learning_rate, backward: self.backward.into(), seed: None }
    }
}

/// Hidden layer sizes as the command line writes them: `128,64`, or `none`.
#[derive(Clone)]
struct Hidden(Vec<usize>);

impl std::str::FromStr for Hidden {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        if matches!(text.trim(), "" | "none") {
            return Ok(Hidden(Vec::new()));
        }
        let units = text.split(',').map(|unit| {
            unit.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{unit}` is not a number of units (e.g. 256,128, or none)"))
        });
        Ok(Hidden(units.collect::<std::result::Result<_, _>>()?))
    }
}

impl std::fmt::Display for Hidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let units: Vec<String> = self.0.iter().map(usize::to_string).collect();
        if units.is_empty() { f.write_str("none") } else { f.write_str(&units.join(",")) }
    }
}

#[derive(clap::Args)]
struct DataArg {
    /// Folder with the MNIST IDX files (default: $MNIST_DIR, else the bundled copy).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
}

impl DataArg {
    fn load(&self) -> Result<Mnist> {
        self.data.as_deref().map_or_else(Mnist::load, Mnist::load_dir)
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum BackwardArg {
    Manual,
    Autograd,
}

impl From<BackwardArg> for Backward {
    fn from(arg: BackwardArg) -> Self {
        match arg {
            BackwardArg::Manual => Backward::Manual,
            BackwardArg::Autograd => Backward::Autograd,
        }
    }
}

fn main() -> ExitCode {
    let mut out = Output::default();
    let code = run(Cli::parse().command, &mut out).unwrap_or_else(|error| {
        output::error(error);
        EXIT_FAILURE
    });
    let output_lost = out.finish();
    ExitCode::from(if output_lost && code == EXIT_SUCCESS { EXIT_FAILURE } else { code })
}

const EXIT_SUCCESS: u8 = 0;
const EXIT_FAILURE: u8 = 1;
/// What a shell reports for a program stopped by Ctrl-C (128 + SIGINT).
const EXIT_INTERRUPTED: u8 = 130;

fn run(command: Command, out: &mut Output) -> Result<u8> {
    match command {
        Command::Train { recipe, out: dir } => {
            check_save_target(&dir)?;
            let (config, data) = (recipe.training(), recipe.data.load()?);
            let mut model = recipe.model().init(&Device::Cpu)?;
            out.line(format_args!("model: {} ({} parameters)", model.config(), model.parameter_count()));
            let history = match train_with_progress_bar(&mut model, &data, &config, out) {
                // Nothing is lost: the epochs completed before the divergence are saved.
                Err(Error::Diverged { epoch, step, loss, completed }) if !completed.epochs.is_empty() => {
                    model.save(&dir, &ModelCard::new(&model, &config, &data, &completed))?;
                    out.line(format_args!(
                        "saved the {} epoch(s) completed before to {}",
                        completed.epochs.len(),
                        dir.display()
                    ));
                    return Err(Error::Diverged { epoch, step, loss, completed });
                }
                other => other?,
            };
            model.save(&dir, &ModelCard::new(&model, &config, &data, &history))?;
            if let Some(warning) = history.warning() {
                output::warning(format_args!("{warning}; {}", advice(&config, data.train_len())));
            }
            out.line(format_args!("median epoch: {:.2} s", history.median_epoch_seconds().unwrap_or_default()));
            out.line(format_args!("test accuracy: {:.4}", history.test_accuracy().unwrap_or_default()));
            if history.interrupted {
                out.line(format_args!("interrupted: saved what was trained to {}", dir.display()));
                return Ok(EXIT_INTERRUPTED);
            }
            out.line(format_args!("saved to {}", dir.display()));
        }
        Command::Bench { recipe } => {
            let config = recipe.training();
            let figures = bench::measure(&recipe.data.load()?, &recipe.model(), &config)?;
            let system = if config.backward == Backward::Autograd { "ours-autograd" } else { "ours" };
            out.line(figures.to_json(system, config.batch_size));
        }
        Command::Evaluate { model: dir, data } => {
            let (model, _) = Mlp::load(&dir, &Device::Cpu)?;
            let data = data.load()?;
            let evaluation = evaluate(&model, &data.test_images, &data.test_labels)?;
            if !evaluation.loss.is_finite() {
                return Err(not_finite(&dir, format!("its test loss is {}", evaluation.loss)));
            }
            out.line(format_args!("test loss: {:.4}", evaluation.loss));
            out.line(format_args!("test accuracy: {:.4}", evaluation.accuracy));
            out.line(format_args!("misclassified: {} of {}", evaluation.misclassified().len(), data.test_len()));
        }
        Command::Predict { model, files, json, .. } if !files.is_empty() => {
            let (model, _) = Mlp::load(&model, &Device::Cpu)?;
            return Ok(predict_files(&model, &files, json, out));
        }
        Command::Predict { model: dir, index, data, .. } => {
            let (model, _) = Mlp::load(&dir, &Device::Cpu)?;
            let data = data.load()?;
            let Some(last) = data.test_len().checked_sub(1) else {
                return Err(Error::Config(format!("the test set in {} is empty", data.dir.display())));
            };
            if index > last {
                return Err(Error::Config(format!("index {index} is out of range 0–{last}")));
            }
            let image = data.test_images.narrow(0, index, 1)?; // [1, 784]
            let label = data.test_labels.get(index)?.to_scalar::<u32>()?;
            let probabilities = model.probabilities(&image)?.squeeze(0)?.to_vec1::<f32>()?;
            check_finite(&probabilities).map_err(|problem| not_finite(&dir, problem))?;
            out.line(format_args!("logits:        {}", format_row(&model.infer(&image)?.squeeze(0)?.to_vec1()?)));
            out.line(format_args!("probabilities: {}", format_row(&probabilities)));
            out.line(format_args!("predicted digit: {}, true label: {label}", scores::argmax(&probabilities)));
        }
    }
    Ok(EXIT_SUCCESS)
}

/// A model whose outputs overflow: nothing it computes may be reported.
fn not_finite(dir: &Path, problem: impl std::fmt::Display) -> Error {
    Error::File { path: dir.to_path_buf(), problem: format!("the model's outputs are not finite: {problem}") }
}

/// Classifies each file; a bad file gets its one-line error and the others still run.
fn predict_files(model: &Mlp, files: &[PathBuf], json: bool, out: &mut Output) -> u8 {
    let mut predictions = Vec::new();
    let mut failed = 0;
    for file in files {
        match mnist_mlp::image::predict_file(model, file) {
            // JSON holds text, not bytes: a name that is not UTF-8 is shown with U+FFFD in place.
            Ok(prediction) if json => predictions.push(serde_json::json!({
                "file": prediction.file.to_string_lossy(),
                "digit": prediction.digit,
                "probabilities": prediction.probabilities,
            })),
            Ok(prediction) => {
                let top: Vec<String> = prediction.top(3).iter().map(|(d, p)| format!("{d} {p:.3}")).collect();
                out.line(format_args!("{}: {} (top 3: {})", file.display(), prediction.digit, top.join(", ")));
            }
            Err(error) => {
                output::error(error);
                failed += 1;
            }
        }
        if out.is_closed() {
            break;
        }
    }
    if json {
        out.line(serde_json::Value::Array(predictions));
    }
    if failed > 0 { EXIT_FAILURE } else { EXIT_SUCCESS }
}

fn train_with_progress_bar(model: &mut Mlp, data: &Mnist, config: &TrainConfig, out: &mut Output) -> Result<History> {
    let style = ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg}")
        .expect("the template is valid")
        .progress_chars("=> ");
    let bar = ProgressBar::new(0).with_style(style);
    // Ctrl-C, SIGTERM (`kill`, a shutdown) and SIGHUP (the terminal closed) end training after
    // the current step, and what was trained is still saved; a second signal quits at once.
    static STOP: AtomicBool = AtomicBool::new(false);
    ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(EXIT_INTERRUPTED.into());
        }
    })
    .map_err(|e| Error::Config(format!("cannot catch Ctrl-C: {e}")))?;
    let history = train_until(model, data, config, &STOP, |progress| match progress {
        Progress::Step { epoch, epochs, step, steps, loss, accuracy } => {
            if step == 1 {
                bar.reset();
                bar.set_length(steps as u64);
                bar.set_prefix(format!("{epoch}/{epochs}"));
            }
            // Updating the text every step would cost more than drawing it; indicatif redraws ~15×/s.
            if step % 50 == 0 || step == steps {
                bar.set_message(format!("loss {loss:.4} accuracy {accuracy:.4}"));
            }
            bar.set_position(step as u64);
        }
        // `suspend` prints even when the bar is hidden (output not a terminal, as in CI logs).
        Progress::Epoch(stats) => bar.suspend(|| out.line(stats)),
    });
    bar.finish_and_clear();
    history
}

fn format_row(values: &[f32]) -> String {
    let cells: Vec<String> = values.iter().map(|v| format!("{v:8.4}")).collect();
    format!("[{}]", cells.join(" "))
}
