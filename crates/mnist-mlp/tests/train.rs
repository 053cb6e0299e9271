//! Training on real MNIST: it learns, it is deterministic, both gradient paths agree, and it
//! refuses settings that cannot work.

use mnist_mlp::prelude::*;
use std::sync::OnceLock;

/// 10,000 training images (the test set stays whole); loaded once for all tests.
fn small() -> &'static Mnist {
    static DATA: OnceLock<Mnist> = OnceLock::new();
    DATA.get_or_init(|| Mnist::load().unwrap().subset(10_000, 10_000).unwrap())
}

fn model(seed: u64) -> Mlp {
    MlpConfig::default().with_seed(seed).init(&Device::Cpu).unwrap()
}

fn one_epoch(backward: Backward, seed: u64) -> (Mlp, History) {
    let config = TrainConfig { epochs: 1, backward, ..Default::default() };
    let mut model = model(seed);
    let history = train(&mut model, small(), &config, |_| {}).unwrap();
    (model, history)
}

#[test]
fn one_epoch_on_10k_images_learns() {
    let (_, history) = one_epoch(Backward::Manual, 1);
    let accuracy = history.test_accuracy().unwrap();
    assert!(accuracy > 0.90, "test accuracy {accuracy}");
    let epoch = &history.epochs[0];
    assert!(epoch.train_loss < 1.0 && epoch.test_loss < 0.4, "{epoch:?}");
    assert_eq!(history.warning(), None);
}

#[test]
fn training_that_learns_nothing_ends_with_a_warning() {
    let data = small().subset(3_000, 1_000).unwrap();
    let config = TrainConfig { epochs: 1, learning_rate: 10.0, ..Default::default() };
    let history = train(&mut model(0), &data, &config, |_| {}).unwrap();
    let warning = history.warning().expect("a warning");
    assert!(warning.contains("learned nothing"), "{warning}");
    let advice = mnist_mlp::train::advice(&config, data.train_len());
    assert!(advice.contains("smaller learning rate"), "{advice}");
    assert!(history.to_html().contains("warning: training learned nothing"));
}

#[test]
fn a_stop_request_ends_after_the_current_step_and_marks_the_history() {
    let stop = std::sync::atomic::AtomicBool::new(true);
    let config = TrainConfig { epochs: 3, ..Default::default() };
    let mut steps = 0;
    let history = train_until(&mut model(0), small(), &config, &stop, |p| {
        steps += usize::from(matches!(p, Progress::Step { .. }));
    })
    .unwrap();
    assert_eq!(steps, 1, "one step, then stop");
    assert!(history.interrupted);
    assert_eq!(history.epochs.len(), 1, "the cut-short epoch is still evaluated");
}

#[test]
fn same_seed_gives_a_bit_identical_history_and_weights() {
    let ((model_a, a), (model_b, b)) = (one_epoch(Backward::Manual, 5), one_epoch(Backward::Manual, 5));
    // Everything but the wall-clock seconds, compared bit for bit.
    let figures = |h: &History| {
        h.epochs
            .iter()
            .map(|e| [e.train_loss, e.train_accuracy, e.test_loss, e.test_accuracy].map(f32::to_bits))
            .collect::<Vec<_>>()
    };
    assert_eq!(figures(&a), figures(&b));
    for ((name, wa), (_, wb)) in model_a.parameters().iter().zip(model_b.parameters()) {
        let values = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(values(wa), values(wb), "{name}");
    }
    let (_, other) = one_epoch(Backward::Manual, 6);
    assert_ne!(figures(&a), figures(&other), "another seed trains differently");
}

#[test]
fn autograd_reaches_the_same_accuracy_as_the_manual_backward() {
    let (_, manual) = one_epoch(Backward::Manual, 2);
    let (_, autograd) = one_epoch(Backward::Autograd, 2);
    let (m, a) = (manual.test_accuracy().unwrap(), autograd.test_accuracy().unwrap());
    assert!((m - a).abs() < 0.005, "manual {m}, autograd {a}");
}

#[test]
fn progress_reports_every_step_and_every_epoch() {
    let data = small().subset(1_000, 500).unwrap();
    let config = TrainConfig { epochs: 2, batch_size: 128, ..Default::default() };
    let (mut steps, mut epochs) = (Vec::new(), Vec::new());
    let history = train(&mut model(0), &data, &config, |p| match p {
        Progress::Step { epoch, step, steps: total, .. } => steps.push((epoch, step, total)),
        Progress::Epoch(stats) => epochs.push(stats.epoch),
    })
    .unwrap();
    assert_eq!(steps.len(), 2 * 8, "1,000 images in batches of 128 is 8 steps, the last one partial");
    assert_eq!(steps[7], (1, 8, 8));
    assert_eq!(epochs, [1, 2]);
    assert_eq!(history.epochs.len(), 2);
}

#[test]
fn settings_that_cannot_train_are_rejected_with_the_allowed_range() {
    let data = small().subset(100, 100).unwrap();
    let cases = [
        (TrainConfig { epochs: 0, ..Default::default() }, "at least 1"),
        (TrainConfig { batch_size: 0, ..Default::default() }, "between 1 and the 100"),
        (TrainConfig { batch_size: 101, ..Default::default() }, "between 1 and the 100"),
        (TrainConfig { learning_rate: 0.0, ..Default::default() }, "above 0"),
        (TrainConfig { learning_rate: -1.0, ..Default::default() }, "above 0"),
        (TrainConfig { learning_rate: f64::NAN, ..Default::default() }, "finite"),
    ];
    for (config, expected) in cases {
        let error = train(&mut model(0), &data, &config, |_| {}).unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{error}");
        assert!(error.to_string().contains(expected), "{error}");
    }
}

#[test]
fn a_diverging_run_stops_with_the_epoch_and_step_and_keeps_finite_weights() {
    let data = small().subset(2_000, 100).unwrap();
    let config = TrainConfig { learning_rate: 1e12, ..Default::default() };
    let mut model = model(0);
    match train(&mut model, &data, &config, |_| {}) {
        Err(Error::Diverged { epoch, step, loss, completed }) => {
            assert!(completed.epochs.len() < epoch, "only whole epochs before the bad one");
            assert!(!loss.is_finite());
            assert!(epoch >= 1 && step >= 1, "epoch {epoch}, step {step}");
        }
        other => panic!("expected divergence, got {other:?}"),
    }
    let logits = model.infer(&data.test_images).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert!(logits.iter().all(|z| z.is_finite()), "the weights the epoch began with are restored");
    let initial = self::model(0);
    let first = |m: &Mlp| m.layers()[0].weight.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(first(&model), first(&initial), "it diverged in epoch 1, so those are the initial weights");
}

#[test]
fn other_architectures_train_with_the_fast_backward_and_match_autograd() {
    let data = small().subset(10_000, 2_000).unwrap();
    for hidden in [&[256][..], &[64, 64, 64], &[]] {
        let run = |backward| {
            let mut model = MlpConfig::new(hidden).init(&Device::Cpu).unwrap();
            let config = TrainConfig { epochs: 1, backward, ..Default::default() };
            train(&mut model, &data, &config, |_| {}).unwrap().test_accuracy().unwrap()
        };
        let (manual, autograd) = (run(Backward::Manual), run(Backward::Autograd));
        assert!(manual > 0.8, "{hidden:?}: test accuracy {manual}");
        assert!((manual - autograd).abs() < 0.01, "{hidden:?}: manual {manual}, autograd {autograd}");
    }
}

#[test]
fn a_hand_written_loop_with_forward_and_candles_optimizer_learns() {
    // What a learner writes from Candle's examples: forward (recording the graph), the loss,
    // `backward_step`. Ten steps on one batch bring its loss down.
    let model = model(4);
    let images = small().train_images.narrow(0, 0, 64).unwrap();
    let labels = small().train_labels.narrow(0, 0, 64).unwrap();
    let mut adam = Adam::new(model.vars().all_vars(), AdamConfig::default()).unwrap();
    let loss = || mnist_mlp::candle_nn::loss::cross_entropy(&images.apply(&model).unwrap(), &labels).unwrap();
    let before = loss().to_scalar::<f32>().unwrap();
    for _ in 0..10 {
        adam.backward_step(&loss()).unwrap();
    }
    let after = loss().to_scalar::<f32>().unwrap();
    assert!(after < 0.5 * before, "loss {before} → {after}");
}

#[test]
fn epoch_orders_are_permutations_fresh_each_epoch_and_fixed_by_the_seed() {
    let orders: Vec<Vec<u32>> = mnist_mlp::train::epoch_orders(3, 1_000).take(2).collect();
    for order in &orders {
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1_000).collect::<Vec<u32>>(), "every image once");
    }
    assert_ne!(orders[0], orders[1], "a new shuffle each epoch");
    assert_eq!(mnist_mlp::train::epoch_orders(3, 1_000).next().unwrap(), orders[0]);
    assert_ne!(mnist_mlp::train::epoch_orders(4, 1_000).next().unwrap(), orders[0]);
}

#[test]
fn an_epoch_written_by_hand_over_epoch_orders_gives_trains_weights_bit_for_bit() {
    // Notebook 02's last section, on 2,000 images: the batches of `epoch_orders`, forward, the
    // loss, `backward_step` with the crate's Adam — and `train` with autograd gives the same model.
    let data = small().subset(2_000, 500).unwrap();
    let by_hand = model(6);
    let mut adam = Adam::new(by_hand.vars().all_vars(), AdamConfig::default()).unwrap();
    let order = mnist_mlp::train::epoch_orders(6, data.train_len()).next().unwrap();
    for chunk in order.chunks(32) {
        let indices = Tensor::new(chunk, &Device::Cpu).unwrap();
        let images = data.train_images.index_select(&indices, 0).unwrap();
        let labels = data.train_labels.index_select(&indices, 0).unwrap();
        let logits = images.apply(&by_hand).unwrap();
        adam.backward_step(&mnist_mlp::candle_nn::loss::cross_entropy(&logits, &labels).unwrap()).unwrap();
    }
    let mut by_train = model(6);
    let config = TrainConfig { epochs: 1, backward: Backward::Autograd, ..Default::default() };
    train(&mut by_train, &data, &config, |_| {}).unwrap();
    for ((name, a), (_, b)) in by_hand.parameters().into_iter().zip(by_train.parameters()) {
        let (a, b) =
            (a.flatten_all().unwrap().to_vec1::<f32>().unwrap(), b.flatten_all().unwrap().to_vec1::<f32>().unwrap());
        assert!(a == b, "{name} differs");
    }
}
