//! The architecture, the loss, the gradients and the optimizer, each against numbers worked by hand.

use mnist_mlp::backprop::{Backward, cross_entropy_gradient, gradients};
use mnist_mlp::candle_core;
use mnist_mlp::prelude::*;

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
    let model = Mlp::new(0).unwrap();
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
    let model = Mlp::new(7).unwrap();
    let first = &model.layers[0];
    let weights = first.weight.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let limit = (6.0f32 / (784.0 + 128.0)).sqrt();
    assert!(weights.iter().all(|w| w.abs() <= limit));
    let mean_square = weights.iter().map(|w| w * w).sum::<f32>() / weights.len() as f32;
    assert!((mean_square - limit * limit / 3.0).abs() < 0.05 * limit * limit, "variance of U(-l, l) is l²/3");
    assert!(first.bias.flatten_all().unwrap().to_vec1::<f32>().unwrap().iter().all(|b| *b == 0.0));
    let again = Mlp::new(7).unwrap().layers[0].weight.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(weights, again, "same seed, same weights");
}

#[test]
fn logits_are_batch_by_10_and_probabilities_sum_to_1() {
    let model = Mlp::new(1).unwrap();
    let images = random_images(5, 1);
    assert_eq!(model.forward(&images).unwrap().dims(), [5, 10]);
    let sums = model.probabilities(&images).unwrap().sum(1).unwrap().to_vec1::<f32>().unwrap();
    assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-6), "{sums:?}");
    let predictions = model.predict(&images).unwrap();
    assert_eq!((predictions.dims(), predictions.dtype()), (&[5][..], DType::U32));
}

#[test]
fn an_unflattened_image_gets_a_shape_error_with_a_hint() {
    let model = Mlp::new(1).unwrap();
    let image = Tensor::zeros((28, 28), DType::F32, &Device::Cpu).unwrap();
    let message = model.forward(&image).unwrap_err().to_string();
    assert!(message.contains("[28, 28]") && message.contains("reshape((1, 784))"), "{message}");
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

#[test]
fn manual_and_autograd_gradients_agree() {
    let model = Mlp::new(3).unwrap();
    let images = random_images(32, 3);
    let labels: Vec<u32> = (0..32).map(|i| (i * 7 % 10) as u32).collect();
    let manual = gradients(&model, &images, &labels, Backward::Manual).unwrap();
    let autograd = gradients(&model, &images, &labels, Backward::Autograd).unwrap();
    assert!((manual.loss - autograd.loss).abs() < 1e-5);
    assert_eq!(manual.correct, autograd.correct);
    for ((name, _), (m, a)) in model.parameters().iter().zip(manual.gradients.iter().zip(&autograd.gradients)) {
        assert_eq!(m.dims(), a.dims(), "{name}");
        let largest =
            (m - a).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap();
        assert!(largest <= 1e-5, "{name}: max |manual − autograd| = {largest}");
        let size = m.abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap();
        assert!(size > 1e-4, "{name}: the gradient is not trivially zero");
    }
}

#[test]
fn adam_first_step_moves_each_weight_by_the_learning_rate() {
    // At step 1 the bias-corrected m/√v is g/|g|, so every weight moves by lr against its gradient.
    let weight = candle_core::Var::new(&[1.0f32, -2.0, 0.5], &Device::Cpu).unwrap();
    let gradient = Tensor::new(&[0.5f32, -3.0, 0.0], &Device::Cpu).unwrap();
    let mut adam = Adam::new(&[&weight], AdamConfig::default());
    adam.step(&[&weight], &[gradient]).unwrap();
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
    let mut adam = Adam::new(&[&weight], AdamConfig::default());
    adam.step(&[&weight], &[gradient]).unwrap();
    let after = weight.to_vec1::<f32>().unwrap();
    assert_eq!(after[0], 0.0, "{after:?}");
    assert!((after[1] + 1e-3).abs() < 1e-6, "a normal gradient still moves its weight: {after:?}");
}

#[test]
fn the_fast_forward_equals_candles_differentiable_ops() {
    let model = Mlp::new(3).unwrap();
    // The same additions and max in the same order, in place instead of in new tensors:
    // bit-identical, for a small batch and a large one.
    for batch in [5, 1000] {
        let images = random_images(batch, 4);
        let fast = model.forward(&images).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let graph = model.forward_with_graph(&images).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(fast, graph, "batch {batch}");
    }
    let hidden = model.layers[0].forward(&random_images(1000, 5)).unwrap();
    let values = hidden.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert!(values.iter().all(|v| *v >= 0.0) && values.contains(&0.0), "ReLU applied on every unit");
}

#[test]
fn the_fast_forward_records_no_graph_so_it_never_gives_wrong_gradients() {
    let model = Mlp::new(3).unwrap();
    let loss = model.forward(&random_images(4, 6)).unwrap().sqr().unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    for (name, var) in model.parameters() {
        assert!(grads.get(var).is_none(), "{name} got a gradient through the in-place forward");
    }
    let loss = model.forward_with_graph(&random_images(4, 6)).unwrap().sqr().unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    assert!(model.parameters().iter().all(|(_, var)| grads.get(var).is_some()));
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
    let mut adam = Adam::new(&[&weight], AdamConfig::default());
    let (mut expected, mut mean, mut variance) =
        (initial.iter().map(|&w| f64::from(w)).collect::<Vec<_>>(), vec![0f64; n], vec![0f64; n]);
    for step in 1..=2 {
        let g = gradient(step);
        adam.step(&[&weight], &[Tensor::from_vec(g.clone(), (128, 784), &Device::Cpu).unwrap()]).unwrap();
        let alpha = 1e-3 * (1.0 - 0.999f64.powi(step as i32)).sqrt() / (1.0 - 0.9f64.powi(step as i32));
        for i in 0..n {
            let g = f64::from(g[i]);
            mean[i] += 0.1 * (g - mean[i]);
            variance[i] += 0.001 * (g * g - variance[i]);
            expected[i] -= alpha * mean[i] / (variance[i].sqrt() + 1e-7);
        }
    }
    let after = weight.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let worst = after.iter().zip(&expected).map(|(a, e)| (f64::from(*a) - e).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-6, "largest difference from the formula: {worst}");
    assert!(after.iter().zip(&initial).filter(|(a, w)| a != w).count() > n / 2, "most weights moved");
}
