//! Saving and loading: a round trip predicts the same, and damaged folders get clear errors.

use mnist_mlp::candle_core::{self, Tensor};
use mnist_mlp::model::{CONFIG_FILE, WEIGHTS_FILE};
use mnist_mlp::prelude::*;
use std::collections::HashMap;
use std::path::Path;

fn saved(architecture: MlpConfig) -> (tempfile::TempDir, Mlp) {
    let dir = tempfile::tempdir().unwrap();
    let data = Mnist::load().unwrap().subset(1_000, 200).unwrap();
    let config = TrainConfig { epochs: 1, ..Default::default() };
    let mut model = architecture.init(&Device::Cpu).unwrap();
    let history = train(&mut model, &data, &config, |_| {}).unwrap();
    model.save(dir.path(), &ModelCard::new(&model, &config, &data, &history)).unwrap();
    (dir, model)
}

fn saved_model() -> (tempfile::TempDir, Mlp) {
    saved(MlpConfig::default().with_seed(1))
}

fn load(dir: &Path) -> mnist_mlp::Result<(Mlp, ModelCard)> {
    Mlp::load(dir, &Device::Cpu)
}

fn load_error(dir: &Path) -> String {
    match load(dir) {
        Ok(_) => panic!("expected an error"),
        Err(error) => error.to_string(),
    }
}

/// Replaces the first `from` in `config.json` by `to`, returning the error loading then gives.
fn load_error_after_editing_config(dir: &Path, from: &str, to: &str) -> String {
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{text}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    load_error(dir)
}

fn rewrite_weights(dir: &Path, change: impl FnOnce(&mut HashMap<String, Tensor>)) {
    let path = dir.join(WEIGHTS_FILE);
    let mut tensors = candle_core::safetensors::load(&path, &Device::Cpu).unwrap();
    change(&mut tensors);
    candle_core::safetensors::save(&tensors, &path).unwrap();
}

#[test]
fn a_saved_model_loads_and_predicts_the_same() {
    let images = Mnist::load().unwrap().test_images.narrow(0, 0, 100).unwrap();
    let logits = |m: &Mlp| m.infer(&images).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    for (hidden, sizes) in [
        (vec![128, 64], vec![784, 128, 64, 10]),
        (vec![], vec![784, 10]),
        (vec![64, 64, 64], vec![784, 64, 64, 64, 10]),
    ] {
        let (dir, model) = saved(MlpConfig::new(hidden).with_seed(7));
        let (loaded, card) = load(dir.path()).unwrap();
        assert_eq!(logits(&model), logits(&loaded));
        assert_eq!(loaded.config(), model.config(), "loading rebuilds exactly that architecture");
        assert_eq!(card.model.layer_sizes(), sizes);
        assert_eq!(card.model.seed, 7, "the card records the seed the weights came from");
        assert_eq!(card.test_accuracy, card.history.test_accuracy());
        assert_eq!(card.data_sha256.len(), 4);
        assert!(!dir.path().join(format!("{WEIGHTS_FILE}.partial")).exists(), "no temporary file is left");
    }
}

#[test]
fn weights_that_do_not_fit_the_saved_architecture_are_named() {
    let (dir, _) = saved_model();
    // The first `128` in config.json is the first hidden layer's size.
    let message = load_error_after_editing_config(dir.path(), "128", "100");
    assert!(message.contains("`dense1.weight`: shape [128, 784], expected [100, 784]"), "{message}");
    let message = load_error_after_editing_config(dir.path(), "100", "0");
    assert!(message.contains("config.json") && message.contains("hidden layer 1 has 0 units"), "{message}");
}

#[test]
fn an_unknown_format_version_is_refused() {
    let (dir, _) = saved_model();
    let message = load_error_after_editing_config(dir.path(), "\"format_version\": 2", "\"format_version\": 99");
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
