//! The Rust side of the drawing pad's browser check (`scripts/checks/browser/pad-parity`):
//!
//! ```text
//! pad_parity page DIR             train the recipe's model (seed 42, as notebook 04 does), save it
//!                                 to DIR/model and write DIR/pad.html, a page with two pads
//! pad_parity predict MODEL PNG…   prepare and classify each drawing with the Rust code: one JSON
//!                                 line each, {"file", "digit", "probabilities", "input"}
//! ```

use mnist_mlp::prelude::*;
use std::path::{Path, PathBuf};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.split_first() {
        Some((command, [dir])) if command == "page" => page(Path::new(dir)),
        Some((command, [model, files @ ..])) if command == "predict" => predict(Path::new(model), files),
        _ => Err(Error::Config("usage: pad_parity page DIR | pad_parity predict MODEL_DIR PNG...".into())),
    };
    if let Err(error) = outcome {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

fn page(dir: &Path) -> Result<()> {
    let data = Mnist::load()?;
    let config = TrainConfig::default();
    let mut model = MlpConfig::default().init(&Device::Cpu)?;
    let history = train(&mut model, &data, &config, |_| {})?;
    model.save(dir.join("model"), &ModelCard::new(&model, &config, &data, &history))?;
    let pad = model.drawing_pad()?.to_html();
    let html = format!(
        "<!doctype html><meta charset=utf-8><title>Two drawing pads</title>\
         <body style=\"margin:16px\"><h1>Two pads on one page</h1>{pad}<hr>{pad}</body>\n"
    );
    let path = dir.join("pad.html");
    std::fs::write(&path, html).map_err(|e| Error::Io { path: path.clone(), source: e })?;
    println!("{}", path.display());
    Ok(())
}

fn predict(model_dir: &Path, files: &[String]) -> Result<()> {
    let (model, _) = Mlp::load(model_dir, &Device::Cpu)?;
    for file in files.iter().map(PathBuf::from) {
        let prediction = mnist_mlp::image::predict_file(&model, &file)?;
        let line = serde_json::json!({
            "file": file,
            "digit": prediction.digit,
            "probabilities": prediction.probabilities,
            "input": prediction.prepared.digit.as_raw(),
        });
        println!("{line}");
    }
    Ok(())
}
