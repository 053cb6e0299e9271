//! The multi-layer perceptron: 784 pixels → Dense layers with ReLU → Dense 10 (logits).
//!
//! The original notebook's model is [`MlpConfig::default`]: 784 → 128 → 64 → 10. Any other depth
//! and width is one config away, including no hidden layer at all (softmax regression).
//!
//! Parameters live the Candle way, in a [`VarMap`] under the names `dense1.weight`,
//! `dense1.bias`, …, and the model is a [`Module`]: `images.apply(&model)?` gives logits and
//! records the graph `loss.backward()` needs. Prediction, evaluation and the written-out backward
//! pass use [`Mlp::infer`] instead, the same numbers computed faster without a graph. As a
//! [`Classifier`] it trains and evaluates like any other model, with its own backward pass.
//!
//! Everything an `Mlp` does is here, saving and loading ([`ModelCard`]) and the drawing pad
//! included; the machinery they use (Dense layers, the backward pass, the model folder, the
//! pad's page) sits in the layers below.
//!
//! Softmax is not part of the model: the loss works on logits (numerically safer), and
//! [`Mlp::probabilities`] applies softmax only when you want to read them.

use crate::backprop::{self, Backward, BatchGradients};
use crate::checkpoint;
use crate::classifier::Classifier;
use crate::data::Mnist;
use crate::dense::glorot_limit;
use crate::error::{Error, Result};
use crate::history::History;
use crate::optim::AdamConfig;
use crate::scores::argmax;
use crate::sizes::{IMAGE_PIXELS, NUM_CLASSES};
use crate::summary::thousands;
use crate::train::TrainConfig;
use candle_core::{DType, Device, Module, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

pub use crate::checkpoint::{CONFIG_FILE, WEIGHTS_FILE, check_save_target};
pub use crate::dense::{Activation, Dense};
pub use crate::pad::DrawingPad;
pub use crate::summary::{Summary, SummaryRow};

/// Larger models are refused: 100 million parameters are 400 MB of weights and as much again
/// for each of Adam's two moments.
pub const MAX_PARAMETERS: usize = 100_000_000;

/// The architecture and the seed, in the style of burn's and Candle's configs:
/// `MlpConfig::new([256, 128]).init(&Device::Cpu)?` builds 784 → 256 → 128 → 10.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MlpConfig {
    /// Units of each hidden layer (Dense + ReLU), in order; empty for softmax regression.
    pub hidden: Vec<usize>,
    /// Seeds the initial weights and the order in which training shows the images.
    pub seed: u64,
}

impl Default for MlpConfig {
    /// The original notebook's model: 784 → 128 → 64 → 10, seed 42.
    fn default() -> Self {
        MlpConfig { hidden: vec![128, 64], seed: 42 }
    }
}

impl MlpConfig {
    /// These hidden layers, the default seed.
    pub fn new(hidden: impl Into<Vec<usize>>) -> Self {
        MlpConfig { hidden: hidden.into(), ..Default::default() }
    }

    pub fn with_seed(self, seed: u64) -> Self {
        MlpConfig { seed, ..self }
    }

    /// Units per layer, input first: `[784, 128, 64, 10]` for the default.
    pub fn layer_sizes(&self) -> Vec<usize> {
        [IMAGE_PIXELS].into_iter().chain(self.hidden.iter().copied()).chain([NUM_CLASSES]).collect()
    }

    /// Each Dense layer's name, inputs, outputs and activation, in order.
    pub fn layers(&self) -> Vec<(String, usize, usize, Activation)> {
        let sizes = self.layer_sizes();
        let last = sizes.len() - 2;
        let activation = |i: usize| if i < last { Activation::Relu } else { Activation::Linear };
        sizes.windows(2).enumerate().map(|(i, io)| (format!("dense{}", i + 1), io[0], io[1], activation(i))).collect()
    }

    /// Weights and biases of all layers (saturating at `usize::MAX` for absurd sizes).
    pub fn parameter_count(&self) -> usize {
        let sizes = self.layer_sizes();
        let count =
            sizes.windows(2).try_fold(0usize, |total, io| io[0].checked_add(1)?.checked_mul(io[1])?.checked_add(total));
        count.unwrap_or(usize::MAX)
    }

    /// Refuses a layer without units and models above [`MAX_PARAMETERS`].
    pub fn validate(&self) -> Result<()> {
        if let Some(i) = self.hidden.iter().position(|&units| units == 0) {
            return Err(Error::Config(format!("hidden layer {} has 0 units; each needs at least 1", i + 1)));
        }
        if self.parameter_count() > MAX_PARAMETERS {
            return Err(Error::Config(format!(
                "hidden layers {:?} make a model of more than {} parameters",
                self.hidden,
                thousands(MAX_PARAMETERS)
            )));
        }
        Ok(())
    }

    /// A fresh model on `device`: Keras' Glorot-uniform weights drawn from `seed`, zero biases.
    /// The same config gives the same weights, bit for bit.
    pub fn init(&self, device: &Device) -> Result<Mlp> {
        self.validate()?;
        let vars = VarMap::new();
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        for (name, inputs, outputs, _) in self.layers() {
            let limit = glorot_limit(inputs, outputs);
            let weights: Vec<f32> = (0..inputs * outputs).map(|_| rng.random_range(-limit..limit)).collect();
            add_var(&vars, format!("{name}.weight"), Var::from_vec(weights, (outputs, inputs), device)?);
        }
        Mlp::build(self, &vars, device)
    }
}

impl fmt::Display for MlpConfig {
    /// `784 → 128 → 64 → 10, seed 42`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sizes: Vec<String> = self.layer_sizes().iter().map(usize::to_string).collect();
        write!(f, "{}, seed {}", sizes.join(" → "), self.seed)
    }
}

/// Puts `var` into `vars` under `name` (a lock that a panic poisoned still holds whole tensors).
fn add_var(vars: &VarMap, name: String, var: Var) {
    vars.data().lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(name, var);
}

/// The multi-layer perceptron that classifies 28×28 digits.
///
/// Cloning shares the parameters (as cloning a Candle `Var` does): training one clone trains both.
#[derive(Clone)]
pub struct Mlp {
    config: MlpConfig,
    vars: VarMap,
    layers: Vec<Dense>,
    device: Device,
}

impl Mlp {
    /// The model of `config` over the parameters in `vars` (`dense1.weight`, …), Candle style;
    /// those `vars` lacks are created (Glorot-uniform weights from Candle's generator, zero
    /// biases). [`MlpConfig::init`] is the seeded way to a fresh model.
    pub fn new(config: &MlpConfig, vars: &VarMap, device: &Device) -> Result<Self> {
        config.validate()?;
        Mlp::build(config, vars, device)
    }

    /// [`Mlp::new`] for a config already validated.
    pub(crate) fn build(config: &MlpConfig, vars: &VarMap, device: &Device) -> Result<Self> {
        let vb = VarBuilder::from_varmap(vars, DType::F32, device);
        let layers = config
            .layers()
            .into_iter()
            .map(|(name, inputs, outputs, activation)| Dense::new(vb.pp(name), inputs, outputs, activation))
            .collect::<Result<_>>()?;
        Ok(Mlp { config: config.clone(), vars: vars.clone(), layers, device: device.clone() })
    }

    pub fn config(&self) -> &MlpConfig {
        &self.config
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The parameters by name, as an optimizer takes them: `Adam::new(model.vars().all_vars(), …)`.
    pub fn vars(&self) -> &VarMap {
        &self.vars
    }

    /// The Dense layers in order, input side first.
    pub fn layers(&self) -> &[Dense] {
        &self.layers
    }

    /// Every parameter with its name, in layer order: `dense1.weight`, `dense1.bias`, ….
    pub fn parameters(&self) -> Vec<(String, &Tensor)> {
        let layers = self.layers.iter();
        layers
            .flat_map(|l| [(format!("{}.weight", l.name), &l.weight), (format!("{}.bias", l.name), &l.bias)])
            .collect()
    }

    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(Dense::parameter_count).sum()
    }

    /// Images `[batch, 784]` → logits `[batch, 10]`, the numbers `forward` gives, without
    /// recording a graph: the fast path of prediction, evaluation and training's written-out
    /// backward pass. Nothing computed from it has a gradient; use `forward` (or `apply`) for that.
    pub fn infer(&self, images: &Tensor) -> Result<Tensor> {
        check_images(images)?;
        let images = images.to_device(&self.device)?;
        self.layers.iter().try_fold(images, |x, layer| layer.infer(&x))
    }

    /// Softmax of the logits: `[batch, 10]`, each row sums to 1.
    pub fn probabilities(&self, images: &Tensor) -> Result<Tensor> {
        Ok(candle_nn::ops::softmax_last_dim(&self.infer(images)?)?)
    }

    /// The most likely digit of each image: `[batch]` u32 (ties go to the lower digit, as
    /// everywhere in the crate: [`crate::scores::argmax`]).
    pub fn predict(&self, images: &Tensor) -> Result<Tensor> {
        let logits = self.infer(images)?.to_vec2::<f32>()?;
        let digits: Vec<u32> = logits.iter().map(|row| argmax(row) as u32).collect();
        Ok(Tensor::from_vec(digits, logits.len(), &self.device)?)
    }

    /// A canvas to draw digits on, with what this model makes of them (see [`DrawingPad`]).
    pub fn drawing_pad(&self) -> Result<DrawingPad> {
        DrawingPad::new(&self.layers)
    }

    /// Saves into `dir`, the card's `model` set to this model's config, as one unit: a reader
    /// finds the old model or the new one, never a mix. `dir` must be new, empty, or a model
    /// folder ([`check_save_target`]).
    pub fn save(&self, dir: impl AsRef<Path>, card: &ModelCard) -> Result<()> {
        let dir = dir.as_ref();
        let card = ModelCard { model: self.config().clone(), ..card.clone() };
        let tensors: HashMap<String, Tensor> =
            self.parameters().into_iter().map(|(name, tensor)| (name, tensor.clone())).collect();
        let json =
            serde_json::to_string_pretty(&card).map_err(|e| Error::file(dir.join(CONFIG_FILE), e.to_string()))?;
        checkpoint::write(dir, &tensors, &json)
    }

    /// Loads a model saved by [`Mlp::save`] onto `device`, checking the version, the architecture,
    /// every tensor's name, dtype and shape, and that every weight is finite. Each file is read
    /// within its limit, and both from the same save.
    pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<(Mlp, ModelCard)> {
        let dir = dir.as_ref();
        let (config_json, weights_bytes) = checkpoint::read(dir)?;
        Mlp::from_bytes(&config_json, &dir.join(CONFIG_FILE), &weights_bytes, &dir.join(WEIGHTS_FILE), device)
    }

    /// A model from the contents of its two files; the paths only name them in errors.
    pub(crate) fn from_bytes(
        config_json: &[u8],
        config: &Path,
        weights_bytes: &[u8],
        weights: &Path,
        device: &Device,
    ) -> Result<(Mlp, ModelCard)> {
        let card: ModelCard = serde_json::from_slice(config_json).map_err(|e| Error::file(config, e.to_string()))?;
        if card.format_version != FORMAT_VERSION {
            return Err(Error::file(
                config,
                format!("format version {} is not supported (this build reads {FORMAT_VERSION})", card.format_version),
            ));
        }
        card.model.validate().map_err(|e| Error::file(config, e.to_string()))?;
        let mut tensors = checkpoint::tensors(weights_bytes, weights, device)?;
        let vars = VarMap::new();
        for (layer, inputs, outputs, _) in card.model.layers() {
            for (name, shape) in
                [(format!("{layer}.weight"), vec![outputs, inputs]), (format!("{layer}.bias"), vec![outputs])]
            {
                let var = checkpoint::take(&mut tensors, weights, &name, &shape)?;
                add_var(&vars, name, var);
            }
        }
        checkpoint::check_all_taken(&tensors, weights)?;
        Ok((Mlp::build(&card.model, &vars, device)?, card))
    }

    /// A Keras-style table: layer, output shape, parameters.
    pub fn summary(&self) -> Summary {
        let mut rows = vec![SummaryRow {
            layer: "input (Flatten 28×28)".into(),
            output_shape: format!("(None, {IMAGE_PIXELS})"),
            parameters: 0,
        }];
        rows.extend(self.layers.iter().map(|l| SummaryRow {
            layer: format!(
                "{} (Dense{})",
                l.name,
                match l.activation {
                    Activation::Relu => ", ReLU",
                    Activation::Linear => ", logits",
                }
            ),
            output_shape: format!("(None, {})", l.outputs()),
            parameters: l.parameter_count(),
        }));
        Summary { rows }
    }
}

impl Module for Mlp {
    /// Images `[batch, 784]` → logits `[batch, 10]`, recording the graph for `loss.backward()`.
    fn forward(&self, images: &Tensor) -> candle_core::Result<Tensor> {
        check_images(images).map_err(candle_core::Error::wrap)?;
        self.layers.iter().try_fold(images.clone(), |x, layer| x.apply(layer))
    }
}

impl Classifier for Mlp {
    fn vars(&self) -> &VarMap {
        &self.vars
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn seed(&self) -> u64 {
        self.config.seed
    }

    fn infer(&self, images: &Tensor) -> Result<Tensor> {
        Mlp::infer(self, images)
    }

    /// The backward pass written out by hand ([`Backward::Manual`], the default), or autograd's.
    fn gradients(&self, images: &Tensor, labels: &[u32], backward: Backward) -> Result<BatchGradients> {
        match backward {
            Backward::Manual => backprop::by_hand(&self.layers, &self.device, images, labels),
            Backward::Autograd => backprop::autograd(self, &self.device, images, labels),
        }
    }
}

impl fmt::Debug for Mlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mlp")
            .field("layer_sizes", &self.config.layer_sizes())
            .field("seed", &self.config.seed)
            .field("device", &self.device)
            .finish()
    }
}

/// Checks that `images` is `[batch, 784]`, with a hint for the common 28×28 mistake.
fn check_images(images: &Tensor) -> Result<()> {
    match images.dims() {
        [_, IMAGE_PIXELS] => Ok(()),
        dims => Err(Error::Shape(format!(
            "images must be [batch, {IMAGE_PIXELS}], got {dims:?}; flatten each 28×28 image, e.g. `.reshape((1, {IMAGE_PIXELS}))`"
        ))),
    }
}

/// Bumped whenever the files change meaning; loading refuses other versions.
/// 2: the architecture is `model` (hidden sizes and seed); 1 had a fixed one.
pub const FORMAT_VERSION: u32 = 2;

/// Everything about a saved model except its weights: its `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub format_version: u32,
    /// The architecture and the seed of its initial weights and of the shuffling.
    pub model: MlpConfig,
    pub training: TrainConfig,
    pub optimizer: AdamConfig,
    /// SHA-256 of the data files it was trained on.
    pub data_sha256: BTreeMap<String, String>,
    pub history: History,
    pub test_accuracy: Option<f32>,
}

impl ModelCard {
    pub fn new(model: &Mlp, training: &TrainConfig, data: &Mnist, history: &History) -> Self {
        ModelCard {
            format_version: FORMAT_VERSION,
            model: model.config().clone(),
            training: training.clone(),
            optimizer: training.adam(),
            data_sha256: data.sha256.clone(),
            history: history.clone(),
            test_accuracy: history.test_accuracy(),
        }
    }
}
