//! The seam for a new model: Candle's own two-`Linear` MNIST model (its mnist-training example),
//! trained and evaluated by the crate's `train` and `evaluate` through autograd.

use mnist_mlp::Classifier;
use mnist_mlp::candle_core::{self, Var};
use mnist_mlp::candle_nn::{self, Linear, VarBuilder, VarMap};
use mnist_mlp::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// 784 → 100 → 10 with ReLU between, as `candle-examples/mnist-training` builds it, over a
/// `VarMap` filled from `seed` first (Candle's own initializers draw from an unseeded generator).
struct TwoLinear {
    first: Linear,
    second: Linear,
    vars: VarMap,
    seed: u64,
}

impl TwoLinear {
    fn new(seed: u64) -> Self {
        let vars = VarMap::new();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for (name, inputs, outputs) in [("ln1", 784, 100), ("ln2", 100, 10)] {
            let limit = (6.0 / (inputs + outputs) as f32).sqrt();
            let weights: Vec<f32> = (0..inputs * outputs).map(|_| rng.random_range(-limit..limit)).collect();
            let mut data = vars.data().lock().unwrap();
            data.insert(format!("{name}.weight"), Var::from_vec(weights, (outputs, inputs), &Device::Cpu).unwrap());
            data.insert(format!("{name}.bias"), Var::zeros(outputs, DType::F32, &Device::Cpu).unwrap());
        }
        let vb = VarBuilder::from_varmap(&vars, DType::F32, &Device::Cpu);
        let first = candle_nn::linear(784, 100, vb.pp("ln1")).unwrap();
        let second = candle_nn::linear(100, 10, vb.pp("ln2")).unwrap();
        TwoLinear { first, second, vars, seed }
    }
}

impl Module for TwoLinear {
    fn forward(&self, images: &Tensor) -> candle_core::Result<Tensor> {
        images.apply(&self.first)?.relu()?.apply(&self.second)
    }
}

impl Classifier for TwoLinear {
    fn vars(&self) -> &VarMap {
        &self.vars
    }

    fn device(&self) -> &Device {
        &Device::Cpu
    }

    fn seed(&self) -> u64 {
        self.seed
    }
}

fn trained(seed: u64, data: &Mnist) -> (TwoLinear, History) {
    let mut model = TwoLinear::new(seed);
    let history = train(&mut model, data, &TrainConfig { epochs: 2, ..Default::default() }, |_| {}).unwrap();
    (model, history)
}

#[test]
fn a_model_that_is_not_an_mlp_trains_and_evaluates_through_train_and_evaluate() {
    let data = Mnist::load().unwrap().subset(6_000, 2_000).unwrap();
    let untrained = evaluate(&TwoLinear::new(7), &data.test_images, &data.test_labels).unwrap();
    let (model, history) = trained(7, &data);
    let evaluation = evaluate(&model, &data.test_images, &data.test_labels).unwrap();
    assert!(evaluation.accuracy > 0.85, "test accuracy {} (chance is 0.1)", evaluation.accuracy);
    assert!(untrained.accuracy < 0.3, "untrained accuracy {}", untrained.accuracy);
    assert_eq!(history.test_accuracy(), Some(evaluation.accuracy), "train evaluates as `evaluate` does");
    assert!(history.epochs[1].train_loss < history.epochs[0].train_loss, "{history}");

    // Seeded: the same seed trains the same weights, bit for bit.
    let (again, _) = trained(7, &data);
    for (name, var) in model.vars.data().lock().unwrap().iter() {
        let other =
            again.vars.data().lock().unwrap()[name].as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(var.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap(), other, "{name}");
    }
}
