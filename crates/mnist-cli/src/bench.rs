//! `mnist bench`: the figures `scripts/bench` compares with PyTorch and Keras, as one JSON object.

use mnist_mlp::prelude::*;
use std::time::Instant;

/// What one benchmark run measures; field names match the peers' script.
pub struct Figures {
    pub history: History,
    pub infer_10k_ms: f64,
    pub single_ms: f64,
    pub peak_rss_mb: f64,
}

/// Trains the model of `model` with `config` on the full data, then times inference.
pub fn measure(data: &Mnist, model: &MlpConfig, config: &TrainConfig) -> Result<Figures> {
    let mut model = model.init(&Device::Cpu)?;
    let history = train(&mut model, data, config, |_| {})?;

    // All 10,000 test images in one batch (on every core: the crate splits large products over its own threads): best of 5.
    model.predict(&data.test_images)?; // warm-up
    let infer_10k_ms = (0..5)
        .map(|_| time_ms(|| model.predict(&data.test_images)))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .fold(f64::INFINITY, f64::min);

    // One image at a time, as an app would: median of 2,000 after a warm-up.
    let image = data.test_images.narrow(0, 0, 1)?.contiguous()?; // [1, 784]
    (0..200).try_for_each(|_| model.predict(&image).map(drop))?;
    let mut single: Vec<f64> = (0..2000).map(|_| time_ms(|| model.predict(&image))).collect::<Result<_>>()?;
    single.sort_by(f64::total_cmp);

    Ok(Figures { history, infer_10k_ms, single_ms: single[single.len() / 2], peak_rss_mb: peak_rss_mb() })
}

fn time_ms(f: impl FnOnce() -> Result<Tensor>) -> Result<f64> {
    let started = Instant::now();
    let result = f()?;
    let elapsed = started.elapsed().as_secs_f64() * 1e3;
    drop(result);
    Ok(elapsed)
}

/// The process's peak resident memory (VmHWM), in MB; 0 where /proc is not available.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
    kb.unwrap_or(0.0) / 1024.0
}

impl Figures {
    pub fn to_json(&self, system: &str, batch_size: usize) -> String {
        let seconds: Vec<f64> = self.history.epochs.iter().map(|e| e.seconds).collect();
        serde_json::json!({
            "system": system,
            "batch_size": batch_size,
            "epoch_seconds": seconds,
            "median_epoch_seconds": self.history.median_epoch_seconds(),
            "test_accuracy": self.history.test_accuracy(),
            "infer_10k_ms": self.infer_10k_ms,
            "single_ms": self.single_ms,
            "peak_rss_mb": self.peak_rss_mb,
            // Candle's threads: what `RAYON_NUM_THREADS` asks for, else the physical cores.
            "threads": mnist_mlp::candle_core::utils::get_num_threads(),
        })
        .to_string()
    }
}
