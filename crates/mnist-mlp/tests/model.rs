//! The architecture, the loss, the gradients and the optimizer, each against numbers worked by hand.

use mnist_mlp::Classifier;
use mnist_mlp::candle_core::{self, Var, backprop::GradStore};
use mnist_mlp::candle_nn::VarMap;
use mnist_mlp::data::IMAGE_PIXELS;
use mnist_mlp::model::Activation;
use mnist_mlp::prelude::*;
use mnist_mlp::testing::cross_entropy_gradient;

fn model(hidden: &[usize], seed: u64) -> Mlp {
    MlpConfig::new(hidden).with_seed(seed).init(&Device::Cpu).unwrap()
}

fn values(tensor: &Tensor) -> Vec<f32> {
    tensor.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

fn random_images(batch: usize, seed: u64) -> Tensor {
    // A fixed pseudo-random batch in [0, 1): a cheap LCG keeps the test independent of `rand`.
    let mut state = seed;
    let pixels: Vec<f32> = (0..batch * IMAGE_PIXELS)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect();
    Tensor::from_vec(pixels, (batch, IMAGE_PIXELS), &Device::Cpu).unwrap()
}

#[test]
fn the_model_has_the_original_109_386_parameters() {
    let model = MlpConfig::default().init(&Device::Cpu).unwrap();
    assert_eq!(model.config().layer_sizes(), [784, 128, 64, 10]);
    assert_eq!(model.parameter_count(), 109_386);
    let summary = model.summary();
    assert_eq!(summary.total_parameters(), 109_386);
    let parameters: Vec<usize> = summary.rows.iter().map(|r| r.parameters).collect();
    assert_eq!(parameters, [0, 100_480, 8_256, 650]);
    let text = summary.to_string();
    assert!(text.contains("Total params: 109,386") && text.contains("(None, 128)"), "{text}");
    assert!(summary.to_html().contains("<td style=\"text-align:right\">100,480</td>"));
}

#[test]
fn initial_weights_are_glorot_uniform_with_zero_biases() {
    let model = model(&[128, 64], 7);
    let first = &model.layers()[0];
    let weights = values(&first.weight);
    let limit = (6.0f32 / (784.0 + 128.0)).sqrt();
    assert!(weights.iter().all(|w| w.abs() <= limit));
    let mean_square = weights.iter().map(|w| w * w).sum::<f32>() / weights.len() as f32;
    assert!((mean_square - limit * limit / 3.0).abs() < 0.05 * limit * limit, "variance of U(-l, l) is l²/3");
    assert!(values(&first.bias).iter().all(|b| *b == 0.0));
    let again = values(&model_again(7));
    assert_eq!(weights, again, "same seed, same weights");
    assert_ne!(weights, values(&model_again(8)), "another seed, other weights");
}

fn model_again(seed: u64) -> Tensor {
    model(&[128, 64], seed).layers()[0].weight.clone()
}

#[test]
fn the_default_initial_weights_are_those_of_the_fixed_architecture_before() {
    // The 784-128-64-10 model drew its weights from ChaCha8 seeded with 42, layer after layer,
    // before the architecture became a config; the same numbers keep the figures in
    // README.md and docs/ valid.
    let model = MlpConfig::default().init(&Device::Cpu).unwrap();
    let first = |i: usize| values(&model.layers()[i].weight)[..3].to_vec();
    assert_eq!(first(0), FIRST_WEIGHTS_SEED_42[0]);
    assert_eq!(first(2), FIRST_WEIGHTS_SEED_42[1]);
}

/// The first three weights of dense1 and dense3 of `Mlp::new(42)` as it was.
/// (Read from a model the earlier `mnist train --learning-rate 1e-300` saved: a step too small to
/// change any weight.)
const FIRST_WEIGHTS_SEED_42: [[f32; 3]; 2] =
    [[-0.044760022, 0.029507443, -0.05736374], [-0.27473906, 0.2517309, -0.05438213]];

#[test]
fn any_depth_and_width_builds_including_no_hidden_layer() {
    let cases: [(&[usize], &[usize], usize); 4] = [
        (&[], &[7_850], 7_850),
        (&[256], &[200_960, 2_570], 203_530),
        (&[256, 128], &[200_960, 32_896, 1_290], 235_146),
        (&[64, 64, 64], &[50_240, 4_160, 4_160, 650], 59_210),
    ];
    for (hidden, per_layer, total) in cases {
        let model = model(hidden, 0);
        let rows: Vec<usize> = model.summary().rows.iter().skip(1).map(|r| r.parameters).collect();
        assert_eq!((rows.as_slice(), model.parameter_count()), (per_layer, total), "{hidden:?}");
        assert_eq!(model.config().parameter_count(), total);
        let names: Vec<String> = model.parameters().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names.len(), 2 * (hidden.len() + 1));
        assert_eq!(names.last().unwrap(), &format!("dense{}.bias", hidden.len() + 1));
        assert_eq!(model.vars().all_vars().len(), names.len(), "every parameter is in the VarMap");
        let last = model.layers().last().unwrap();
        assert_eq!((last.outputs(), last.activation), (10, Activation::Linear));
        assert!(model.layers().iter().rev().skip(1).all(|l| l.activation == Activation::Relu));
        assert_eq!(model.infer(&random_images(3, 1)).unwrap().dims(), [3, 10]);
    }
    let summary = model(&[], 0).summary().to_string();
    assert!(summary.contains("dense1 (Dense, logits)") && summary.contains("Total params: 7,850"), "{summary}");
}

#[test]
fn impossible_architectures_are_refused_with_the_reason() {
    let error = MlpConfig::new([128, 0]).init(&Device::Cpu).unwrap_err().to_string();
    assert!(error.contains("hidden layer 2 has 0 units"), "{error}");
    let error = MlpConfig::new([100_000, 100_000]).init(&Device::Cpu).unwrap_err().to_string();
    assert!(error.contains("more than 100,000,000 parameters"), "{error}");
    let error = MlpConfig::new([usize::MAX, 2]).init(&Device::Cpu).unwrap_err().to_string();
    assert!(error.contains("more than"), "overflow is refused, not wrapped: {error}");
}

#[test]
fn a_model_is_a_candle_module_over_a_var_map() {
    let model = model(&[32], 5);
    let images = random_images(4, 2);
    let logits = images.apply(&model).unwrap();
    assert_eq!(values(&logits), values(&model.infer(&images).unwrap()), "apply and the fast path agree");
    // Built Candle's way from the same VarMap: the same parameters, the same outputs.
    let again = Mlp::new(model.config(), model.vars(), &Device::Cpu).unwrap();
    assert_eq!(values(&images.apply(&again).unwrap()), values(&logits));
    let layer = &model.layers()[0];
    assert_eq!(layer.name, "dense1");
    assert_eq!(values(&images.apply(layer).unwrap()), values(&layer.infer(&images).unwrap()));
    // An empty VarMap gets fresh parameters, Glorot-bounded weights and zero biases.
    let fresh = Mlp::new(&MlpConfig::new([32]), &VarMap::new(), &Device::Cpu).unwrap();
    let limit = (6.0f32 / (784.0 + 32.0)).sqrt();
    assert!(values(&fresh.layers()[0].weight).iter().all(|w| w.abs() <= limit));
    assert!(values(&fresh.layers()[1].bias).iter().all(|b| *b == 0.0));
}

#[test]
fn logits_are_batch_by_10_and_probabilities_sum_to_1() {
    let model = model(&[128, 64], 1);
    let images = random_images(5, 1);
    assert_eq!(model.forward(&images).unwrap().dims(), [5, 10]);
    let sums = model.probabilities(&images).unwrap().sum(1).unwrap().to_vec1::<f32>().unwrap();
    assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-6), "{sums:?}");
    let predictions = model.predict(&images).unwrap();
    assert_eq!((predictions.dims(), predictions.dtype()), (&[5][..], DType::U32));
}

#[test]
fn an_unflattened_image_gets_a_shape_error_with_a_hint() {
    let model = model(&[128, 64], 1);
    let image = Tensor::zeros((28, 28), DType::F32, &Device::Cpu).unwrap();
    for message in [model.infer(&image).unwrap_err().to_string(), model.forward(&image).unwrap_err().to_string()] {
        assert!(message.contains("[28, 28]") && message.contains("reshape((1, 784))"), "{message}");
    }
}

#[test]
fn cross_entropy_matches_a_hand_computed_example() {
    // Row 1: all logits equal → p = 0.1 each, loss = ln 10.
    // Row 2: z0 = ln 2, the rest 0 → p0 = 2/11, loss = ln(11/2). Both have label 0.
    let mut rows = vec![0.0f32; 20];
    rows[10] = 2f32.ln();
    let logits = Tensor::from_vec(rows, (2, 10), &Device::Cpu).unwrap();
    let expected = (10f32.ln() + (11f32 / 2.0).ln()) / 2.0; // 2.003667
    let (loss, correct, gradient) = cross_entropy_gradient(&logits, &[0, 0]).unwrap();
    assert!((loss - expected).abs() < 1e-6, "{loss} vs {expected}");
    assert!((expected - 2.003_667).abs() < 1e-6);
    assert_eq!(correct, 2, "a tie goes to the first index, so both rows predict label 0");
    let gradient = gradient.to_vec2::<f32>().unwrap();
    assert!((gradient[0][0] - (0.1 - 1.0) / 2.0).abs() < 1e-6);
    assert!((gradient[1][1] - (1.0 / 11.0) / 2.0).abs() < 1e-6);
    // candle-nn's loss, which the autograd path uses, agrees.
    let labels = Tensor::new(&[0u32, 0], &Device::Cpu).unwrap();
    let candle_loss = mnist_mlp::candle_nn::loss::cross_entropy(&logits, &labels).unwrap().to_scalar::<f32>().unwrap();
    assert!((candle_loss - expected).abs() < 1e-6);
}

/// The written-out backward pass and Candle's autograd give the same gradient for every
/// parameter, each looked up by the parameter itself.
fn assert_gradients_agree(hidden: &[usize]) {
    let model = model(hidden, 3);
    let images = random_images(32, 3);
    let labels: Vec<u32> = (0..32).map(|i| (i * 7 % 10) as u32).collect();
    let manual = model.gradients(&images, &labels, Backward::Manual).unwrap();
    let autograd = model.gradients(&images, &labels, Backward::Autograd).unwrap();
    assert!((manual.loss - autograd.loss).abs() < 1e-5, "{hidden:?}");
    assert_eq!(manual.correct, autograd.correct);
    for (name, parameter) in model.parameters() {
        let (m, a) = (manual.gradients.get(parameter).unwrap(), autograd.gradients.get(parameter).unwrap());
        assert_eq!(m.dims(), parameter.dims(), "{hidden:?} {name}");
        assert_eq!(m.dims(), a.dims(), "{hidden:?} {name}");
        let largest =
            (m - a).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap();
        assert!(largest <= 1e-5, "{hidden:?} {name}: max |manual − autograd| = {largest}");
        let size = m.abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap();
        assert!(size > 1e-4, "{hidden:?} {name}: the gradient is not trivially zero");
    }
}

#[test]
fn manual_and_autograd_gradients_agree() {
    assert_gradients_agree(&[128, 64]);
}

#[test]
fn manual_and_autograd_gradients_agree_on_other_architectures() {
    assert_gradients_agree(&[256]);
    assert_gradients_agree(&[64, 64, 64]);
    assert_gradients_agree(&[]);
}

/// `Dense::forward` computes `x·Wᵀ` with the crate's own recorded product (not Candle's matmul);
/// its output and the gradients autograd takes through it are Candle's, bit for bit.
#[test]
fn a_dense_layer_differentiates_exactly_as_candles_own_ops() {
    let model = model(&[128, 64], 5);
    let layer = &model.layers()[0];
    let images = random_images(32, 5);
    let by_candle = |input: &Tensor| {
        let z = input.matmul(&layer.weight.t()?)?.broadcast_add(&layer.bias)?;
        z.relu()
    };
    let (ours, theirs) = (layer.forward(&images).unwrap(), by_candle(&images).unwrap());
    assert_eq!(values(&ours), values(&theirs));
    let (ours, theirs) = (ours.sqr().unwrap().sum_all().unwrap(), theirs.sqr().unwrap().sum_all().unwrap());
    let (ours, theirs) = (ours.backward().unwrap(), theirs.backward().unwrap());
    for parameter in [&layer.weight, &layer.bias] {
        let (o, t) = (ours.get(parameter).unwrap(), theirs.get(parameter).unwrap());
        assert_eq!(o.dims(), parameter.dims());
        assert_eq!(values(o), values(t), "{:?}", parameter.dims());
    }
}

/// One step of `adam` with `gradients` for `weight`.
fn adam_step(adam: &mut Adam, weight: &Var, gradient: Tensor) {
    let mut gradients = GradStore::default();
    gradients.insert(weight, gradient);
    adam.step(&gradients).unwrap();
}

#[test]
fn adam_finds_each_parameters_gradient_by_identity_not_position() {
    let (a, b) = (Var::new(&[1.0f32, 1.0], &Device::Cpu).unwrap(), Var::new(&[1.0f32], &Device::Cpu).unwrap());
    let untouched = Var::new(&[5.0f32], &Device::Cpu).unwrap();
    let mut adam = Adam::new(vec![untouched.clone(), b.clone(), a.clone()], AdamConfig::default()).unwrap();
    let mut gradients = GradStore::default();
    gradients.insert(&a, Tensor::new(&[1.0f32, -1.0], &Device::Cpu).unwrap());
    gradients.insert(&b, Tensor::new(&[-2.0f32], &Device::Cpu).unwrap());
    adam.step(&gradients).unwrap();
    assert_eq!(values(&a), [0.999, 1.001]);
    assert_eq!(values(&b), [1.001]);
    assert_eq!(values(&untouched), [5.0], "a parameter without a gradient stays as it is");
    assert!(Adam::new(vec![Var::new(&[1.0f64], &Device::Cpu).unwrap()], AdamConfig::default()).is_err(), "f32 only");
}

#[test]
fn adam_first_step_moves_each_weight_by_the_learning_rate() {
    // At step 1 the bias-corrected m/√v is g/|g|, so every weight moves by lr against its gradient.
    let weight = candle_core::Var::new(&[1.0f32, -2.0, 0.5], &Device::Cpu).unwrap();
    let gradient = Tensor::new(&[0.5f32, -3.0, 0.0], &Device::Cpu).unwrap();
    let mut adam = Adam::new(vec![weight.clone()], AdamConfig::default()).unwrap();
    adam_step(&mut adam, &weight, gradient);
    let after = weight.to_vec1::<f32>().unwrap();
    assert!((after[0] - 0.999).abs() < 1e-6 && (after[1] + 1.999).abs() < 1e-6, "{after:?}");
    assert_eq!(after[2], 0.5, "a zero gradient leaves the weight alone");
}

#[test]
fn adam_flushes_a_subnormal_mean_to_zero() {
    // g = 2e-38 is a normal f32, but the mean (1 − β1)·g = 2e-39 is subnormal: flushed, it moves
    // nothing. Kept, it would move the weight by α·m/ε ≈ 6e-36.
    let weight = candle_core::Var::new(&[0.0f32, 0.0], &Device::Cpu).unwrap();
    let gradient = Tensor::new(&[2e-38f32, 0.5], &Device::Cpu).unwrap();
    let mut adam = Adam::new(vec![weight.clone()], AdamConfig::default()).unwrap();
    adam_step(&mut adam, &weight, gradient);
    let after = weight.to_vec1::<f32>().unwrap();
    assert_eq!(after[0], 0.0, "{after:?}");
    assert!((after[1] + 1e-3).abs() < 1e-6, "a normal gradient still moves its weight: {after:?}");
}

#[test]
fn the_fast_forward_equals_candles_differentiable_ops() {
    // The same additions and max in the same order, in place instead of in new tensors:
    // bit-identical, for a small batch and one large enough to be split over threads.
    for hidden in [&[128, 64][..], &[], &[64, 64, 64]] {
        let model = model(hidden, 3);
        for batch in [5, 1000] {
            let images = random_images(batch, 4);
            let fast = values(&model.infer(&images).unwrap());
            let graph = values(&model.forward(&images).unwrap());
            assert_eq!(fast, graph, "{hidden:?}, batch {batch}");
        }
    }
    let model = model(&[128, 64], 3);
    let hidden = model.layers()[0].infer(&random_images(1000, 5)).unwrap();
    let values = values(&hidden);
    assert!(values.iter().all(|v| *v >= 0.0) && values.contains(&0.0), "ReLU applied on every unit");
}

#[test]
fn forward_records_the_graph_and_only_the_fast_path_does_not() {
    // A hand-written loop calling `forward` (or `apply`) gets gradients; `infer` says in its
    // name and documentation that it has none.
    let model = model(&[128, 64], 3);
    let loss = model.forward(&random_images(4, 6)).unwrap().sqr().unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    assert!(model.parameters().iter().all(|(_, parameter)| grads.get(parameter).is_some()));
    let loss = model.infer(&random_images(4, 6)).unwrap().sqr().unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    for (name, parameter) in model.parameters() {
        assert!(grads.get(parameter).is_none(), "{name} got a gradient through the in-place forward");
    }
}

#[test]
fn adam_on_a_large_parameter_matches_the_formula_element_by_element() {
    // 100,352 weights, like the first layer: two steps against the formula in f64. A third of
    // the gradients are tiny (1e-30), so their squares underflow and the optimizer must still
    // not divide by zero.
    let n = 784 * 128;
    let initial: Vec<f32> = (0..n).map(|i| ((i % 97) as f32 - 48.0) / 100.0).collect();
    let weight = candle_core::Var::from_vec(initial.clone(), (128, 784), &Device::Cpu).unwrap();
    let gradient = |step: usize| -> Vec<f32> {
        (0..n).map(|i| if i % 3 == 0 { 1e-30 / step as f32 } else { ((i % 13) as f32 - 6.0) * 0.01 }).collect()
    };
    let mut adam = Adam::new(vec![weight.clone()], AdamConfig::default()).unwrap();
    let (mut expected, mut mean, mut variance) =
        (initial.iter().map(|&w| f64::from(w)).collect::<Vec<_>>(), vec![0f64; n], vec![0f64; n]);
    for step in 1..=2 {
        let g = gradient(step);
        adam_step(&mut adam, &weight, Tensor::from_vec(g.clone(), (128, 784), &Device::Cpu).unwrap());
        let alpha = 1e-3 * (1.0 - 0.999f64.powi(step as i32)).sqrt() / (1.0 - 0.9f64.powi(step as i32));
        for i in 0..n {
            let g = f64::from(g[i]);
            mean[i] += 0.1 * (g - mean[i]);
            variance[i] += 0.001 * (g * g - variance[i]);
            expected[i] -= alpha * mean[i] / (variance[i].sqrt() + 1e-7);
        }
    }
    let after = values(&weight);
    let worst = after.iter().zip(&expected).map(|(a, e)| (f64::from(*a) - e).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-6, "largest difference from the formula: {worst}");
    assert!(after.iter().zip(&initial).filter(|(a, w)| a != w).count() > n / 2, "most weights moved");
}
