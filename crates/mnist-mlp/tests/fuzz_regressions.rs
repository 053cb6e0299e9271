//! Replays the fuzz seeds and every input the fuzzer ever found a crash with (see scripts/checks/fuzz):
//! each must give a value or an error, never a panic.

use mnist_mlp::candle_core::Device;
use mnist_mlp::image::{prepare, read_bytes};
use mnist_mlp::testing::from_bytes;
use mnist_mlp::testing::{IdxKind, decode_idx};
use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files: Vec<PathBuf> = ["corpus", "regressions"]
        .iter()
        .filter_map(|dir| std::fs::read_dir(fuzz.join(dir).join(target)).ok())
        .flat_map(|entries| entries.map(|e| e.unwrap().path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs for {target}");
    files
}

#[test]
fn idx_inputs_never_panic() {
    for file in inputs("idx") {
        let bytes = std::fs::read(&file).unwrap();
        for kind in [IdxKind::Images, IdxKind::Labels] {
            let _ = decode_idx(&bytes[..], kind);
        }
    }
}

#[test]
fn model_inputs_never_panic() {
    for file in inputs("model") {
        let bytes = std::fs::read(&file).unwrap();
        let split = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        let (config, weights) = (&bytes[..split], bytes.get(split + 1..).unwrap_or_default());
        let result =
            from_bytes(config, Path::new("config.json"), weights, Path::new("model.safetensors"), &Device::Cpu);
        assert!(result.is_err(), "{}: the seeds are all damaged models", file.display());
    }
}

#[test]
fn image_inputs_never_panic() {
    let mut prepared = 0;
    for file in inputs("image") {
        if let Ok(image) = read_bytes(&std::fs::read(&file).unwrap()) {
            prepared += usize::from(prepare(&image).is_ok());
        }
    }
    assert!(prepared >= 7, "the seven seed pictures of a 7 prepare: {prepared}");
}
