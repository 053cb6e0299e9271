//! The training loop: shuffle, batch, gradients, Adam; evaluate on the test set after each epoch.

use crate::backprop::Backward;
use crate::classifier::Classifier;
use crate::data::Mnist;
use crate::error::{Error, Result};
use crate::eval::evaluate;
use crate::history::{EpochStats, History};
use crate::optim::{Adam, AdamConfig};
use candle_core::Tensor;
use candle_nn::Optimizer;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The original notebook's recipe; override fields with `..Default::default()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    /// Adam's step size; its other settings are Keras' defaults (see [`AdamConfig`]).
    pub learning_rate: f64,
    pub backward: Backward,
    /// Seeds the order in which the images are shown; `None` (the recipe) takes the model's seed
    /// ([`Classifier::seed`]), so that one number decides the initial weights and the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig { epochs: 5, batch_size: 32, learning_rate: 1e-3, backward: Backward::Manual, seed: None }
    }
}

impl TrainConfig {
    pub fn adam(&self) -> AdamConfig {
        AdamConfig { learning_rate: self.learning_rate, ..AdamConfig::default() }
    }

    /// Rejects settings that cannot train, naming the allowed range.
    pub fn validate(&self, train_len: usize) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::Config("epochs is 0; it must be at least 1".into()));
        }
        if self.batch_size == 0 || self.batch_size > train_len {
            return Err(Error::Config(format!(
                "batch size is {}; it must be between 1 and the {train_len} training images",
                self.batch_size
            )));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::Config(format!(
                "learning rate is {}; it must be a finite number above 0 (the recipe uses 0.001)",
                self.learning_rate
            )));
        }
        Ok(())
    }
}

/// What `train` reports while it runs.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// After every batch: running means over the epoch so far.
    Step { epoch: usize, epochs: usize, step: usize, steps: usize, loss: f32, accuracy: f32 },
    /// After every epoch, with the test figures.
    Epoch(&'a EpochStats),
}

/// Trains `model` (an `Mlp` or any other [`Classifier`]) on `data.train_*`, evaluating on
/// `data.test_*` after every epoch. The images are shuffled with [`TrainConfig::seed`], by default
/// the model's, so one number decides the initial weights and the order, and the saved card
/// records it.
///
/// Same seed, same machine: the same `History` (but for the seconds), bit for bit. A non-finite
/// loss stops training with [`Error::Diverged`] and restores the weights the epoch started with.
pub fn train<M: Classifier + ?Sized>(
    model: &mut M,
    data: &Mnist,
    config: &TrainConfig,
    on_progress: impl FnMut(Progress<'_>),
) -> Result<History> {
    train_until(model, data, config, &AtomicBool::new(false), on_progress)
}

/// [`train`], stopping after the current step once `stop` is set (e.g. by Ctrl-C). The cut-short
/// epoch is evaluated like the others and the history is marked `interrupted`.
pub fn train_until<M: Classifier + ?Sized>(
    model: &mut M,
    data: &Mnist,
    config: &TrainConfig,
    stop: &AtomicBool,
    mut on_progress: impl FnMut(Progress<'_>),
) -> Result<History> {
    let train_len = data.train_len();
    config.validate(train_len)?;
    let train_labels = data.train_labels.to_vec1::<u32>()?;
    // The weights change in place (Candle `Var`s), so shared references suffice from here on.
    let model: &M = model;
    let parameters = model.vars().all_vars();
    let mut adam = Adam::new(parameters.clone(), config.adam())?;
    let orders = epoch_orders(config.seed.unwrap_or_else(|| model.seed()), train_len);
    let steps = train_len.div_ceil(config.batch_size);
    let mut history = History::default();

    for (epoch, order) in (1..=config.epochs).zip(orders) {
        let started = Instant::now();
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        // The last good weights: restored if the loss turns non-finite during this epoch.
        let epoch_start: Vec<Tensor> = parameters.iter().map(|p| p.copy()).collect::<candle_core::Result<_>>()?;
        for (step, batch) in order.chunks(config.batch_size).enumerate() {
            let indices = Tensor::from_slice(batch, batch.len(), data.train_images.device())?;
            let images = data.train_images.index_select(&indices, 0)?; // [batch, 784]
            let labels: Vec<u32> = batch.iter().map(|&i| train_labels[i as usize]).collect();
            let batch_result = model.gradients(&images, &labels, config.backward)?;
            if !batch_result.loss.is_finite() {
                for (parameter, good) in parameters.iter().zip(&epoch_start) {
                    parameter.set(good)?;
                }
                return Err(Error::Diverged {
                    epoch,
                    step: step + 1,
                    loss: batch_result.loss,
                    completed: Box::new(history),
                });
            }
            adam.step(&batch_result.gradients)?;
            loss_sum += f64::from(batch_result.loss) * batch.len() as f64;
            correct += batch_result.correct;
            seen += batch.len();
            on_progress(Progress::Step {
                epoch,
                epochs: config.epochs,
                step: step + 1,
                steps,
                loss: (loss_sum / seen as f64) as f32,
                accuracy: correct as f32 / seen as f32,
            });
            if stop.load(Ordering::Relaxed) {
                history.interrupted = true;
                break;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let test = evaluate(model, &data.test_images, &data.test_labels)?;
        history.epochs.push(EpochStats {
            epoch,
            train_loss: (loss_sum / seen as f64) as f32,
            train_accuracy: correct as f32 / seen as f32,
            test_loss: test.loss,
            test_accuracy: test.accuracy,
            seconds,
        });
        on_progress(Progress::Epoch(history.epochs.last().expect("just pushed")));
        if history.interrupted {
            break;
        }
    }
    Ok(history)
}

/// What to change when training with `config` on `train_len` images learned nothing: a learning
/// rate far from the recipe's (too large kills every ReLU, too small moves nothing), else too few
/// optimizer steps (a batch as large as the data set).
pub fn advice(config: &TrainConfig, train_len: usize) -> String {
    let recipe = TrainConfig::default();
    let steps = config.epochs * train_len.div_ceil(config.batch_size.max(1));
    if config.learning_rate > 10.0 * recipe.learning_rate {
        format!("try a smaller learning rate, e.g. {}", recipe.learning_rate)
    } else if config.learning_rate < recipe.learning_rate / 100.0 {
        format!("try a larger learning rate, e.g. {}", recipe.learning_rate)
    } else if steps < 500 {
        format!(
            "training took only {steps} optimizer step(s): try a smaller batch size (the recipe uses {}) or more epochs",
            recipe.batch_size
        )
    } else {
        format!("try the recipe's settings: learning rate {}, batch size {}", recipe.learning_rate, recipe.batch_size)
    }
}

/// The order in which [`train`] shows the training images, epoch after epoch: `0..len` shuffled
/// anew for each epoch by a generator seeded with `seed` (by default the model's). A loop written by hand
/// that takes its batches from these orders sees exactly the batches `train` sees (notebook 02).
pub fn epoch_orders(seed: u64, len: usize) -> impl Iterator<Item = Vec<u32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut order: Vec<u32> = (0..len as u32).collect();
    std::iter::repeat_with(move || {
        order.shuffle(&mut rng);
        order.clone()
    })
}

/// A progress callback for notebooks: one line per epoch. (The kernel passes output on line by
/// line, so a line redrawn in place would not show until it ends; an epoch takes about half a second.)
pub fn print_epochs(progress: Progress<'_>) {
    if let Progress::Epoch(stats) = progress {
        println!("{stats}");
    }
}
