//! Saving and loading: a round trip predicts the same, and damaged folders get clear errors.

use mnist_mlp::candle_core::{self, Tensor};
use mnist_mlp::checkpoint::{CONFIG_FILE, WEIGHTS_FILE};
use mnist_mlp::prelude::*;
use std::collections::HashMap;
use std::path::Path;

fn saved_model() -> (tempfile::TempDir, Mlp) {
    let dir = tempfile::tempdir().unwrap();
    let data = Mnist::load().unwrap().subset(1_000, 200).unwrap();
    let config = TrainConfig { epochs: 1, ..Default::default() };
    let mut model = Mlp::new(1).unwrap();
    let history = train(&mut model, &data, &config, |_| {}).unwrap();
    save(&model, &ModelCard::new(&config, &data, &history), dir.path()).unwrap();
    (dir, model)
}

fn load_error(dir: &Path) -> String {
    match load(dir) {
        Ok(_) => panic!("expected an error"),
        Err(error) => error.to_string(),
    }
}

fn rewrite_weights(dir: &Path, change: impl FnOnce(&mut HashMap<String, Tensor>)) {
    let path = dir.join(WEIGHTS_FILE);
    let mut tensors = candle_core::safetensors::load(&path, &Device::Cpu).unwrap();
    change(&mut tensors);
    candle_core::safetensors::save(&tensors, &path).unwrap();
}

#[test]
fn a_saved_model_loads_and_predicts_the_same() {
    let (dir, model) = saved_model();
    let (loaded, card) = load(dir.path()).unwrap();
    let images = Mnist::load().unwrap().test_images.narrow(0, 0, 100).unwrap();
    let logits = |m: &Mlp| m.forward(&images).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(logits(&model), logits(&loaded));
    assert_eq!(card.layer_sizes, [784, 128, 64, 10]);
    assert_eq!(card.test_accuracy, card.history.test_accuracy());
    assert_eq!(card.data_sha256.len(), 4);
    assert!(!dir.path().join(format!("{WEIGHTS_FILE}.partial")).exists(), "no temporary file is left");
}

#[test]
fn an_unknown_format_version_is_refused() {
    let (dir, _) = saved_model();
    let path = dir.path().join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).unwrap().replace("\"format_version\": 1", "\"format_version\": 99");
    std::fs::write(&path, text).unwrap();
    let message = load_error(dir.path());
    assert!(message.contains("config.json") && message.contains("format version 99"), "{message}");
}

#[test]
fn a_missing_tensor_is_named() {
    let (dir, _) = saved_model();
    rewrite_weights(dir.path(), |t| {
        t.remove("dense2.bias");
    });
    let message = load_error(dir.path());
    assert!(message.contains("model.safetensors") && message.contains("`dense2.bias`: missing"), "{message}");
}

#[test]
fn a_wrong_shape_is_named() {
    let (dir, _) = saved_model();
    rewrite_weights(dir.path(), |t| {
        t.insert("dense1.weight".into(), Tensor::zeros((128, 100), DType::F32, &Device::Cpu).unwrap());
    });
    let message = load_error(dir.path());
    assert!(message.contains("`dense1.weight`: shape [128, 100], expected [128, 784]"), "{message}");
}

#[test]
fn a_wrong_dtype_is_named() {
    let (dir, _) = saved_model();
    rewrite_weights(dir.path(), |t| {
        let bias = t["dense3.bias"].to_dtype(DType::F64).unwrap();
        t.insert("dense3.bias".into(), bias);
    });
    assert!(load_error(dir.path()).contains("`dense3.bias`: dtype F64"));
}

#[test]
fn non_finite_weights_are_refused() {
    let (dir, _) = saved_model();
    rewrite_weights(dir.path(), |t| {
        t.insert("dense3.bias".into(), Tensor::new(&[f32::NAN; 10], &Device::Cpu).unwrap());
    });
    let message = load_error(dir.path());
    assert!(message.contains("`dense3.bias`: value NaN at flat index 0 is not finite"), "{message}");
}

#[test]
fn damaged_files_are_errors_not_panics() {
    let (dir, _) = saved_model();
    std::fs::write(dir.path().join(WEIGHTS_FILE), b"not a safetensors file").unwrap();
    assert!(load_error(dir.path()).contains("model.safetensors"));
    std::fs::write(dir.path().join(CONFIG_FILE), b"{ half").unwrap();
    assert!(load_error(dir.path()).contains("config.json"));
    std::fs::remove_file(dir.path().join(CONFIG_FILE)).unwrap();
    assert!(load_error(dir.path()).contains("config.json"));
}
