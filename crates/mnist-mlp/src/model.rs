//! The multi-layer perceptron: 784 pixels → Dense layers with ReLU → Dense 10 (logits).
//!
//! The original notebook's model is [`MlpConfig::default`]: 784 → 128 → 64 → 10. Any other depth
//! and width is one config away, including no hidden layer at all (softmax regression).
//!
//! Parameters live the Candle way, in a [`VarMap`] under the names `dense1.weight`,
//! `dense1.bias`, …, and the model is a [`Module`]: `images.apply(&model)?` gives logits and
//! records the graph `loss.backward()` needs. Prediction, evaluation and the written-out backward
//! pass use [`Mlp::infer`] instead, the same numbers computed faster without a graph.
//!
//! Softmax is not part of the model: the loss works on logits (numerically safer), and
//! [`Mlp::probabilities`] applies softmax only when you want to read them.

use crate::data::{IMAGE_PIXELS, NUM_CLASSES};
use crate::error::{Error, Result};
use crate::fused::AddBias;
use crate::matmul::matmul;
use crate::scores::argmax;
use candle_core::{DType, Device, Module, Tensor, Var};
use candle_nn::{Init, VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

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
pub(crate) fn add_var(vars: &VarMap, name: String, var: Var) {
    vars.data().lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(name, var);
}

/// Keras' Glorot-uniform bound: weights are drawn from U(−l, l) with l = √(6 / (inputs + outputs)).
fn glorot_limit(inputs: usize, outputs: usize) -> f32 {
    (6.0 / (inputs + outputs) as f32).sqrt()
}

/// What a Dense layer applies to its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `max(z, 0)`: the hidden layers.
    Relu,
    /// `z` as it is (Keras' name): the last layer, whose outputs are the logits.
    Linear,
}

/// A fully connected layer, `y = activation(x·Wᵀ + b)`, holding its parameters as
/// `candle_nn::Linear` does.
#[derive(Debug, Clone)]
pub struct Dense {
    /// `dense1`, `dense2`, …: its parameters are `<name>.weight` and `<name>.bias`.
    pub name: String,
    /// `[outputs, inputs]`, the layout of `candle_nn::Linear`.
    pub weight: Tensor,
    /// `[outputs]`
    pub bias: Tensor,
    pub activation: Activation,
}

impl Dense {
    /// The layer over `vb`'s `weight` and `bias`; when `vb` is backed by a [`VarMap`] that lacks
    /// them, they are created as Keras does: Glorot-uniform weights, zero biases.
    pub fn new(vb: VarBuilder, inputs: usize, outputs: usize, activation: Activation) -> Result<Self> {
        let limit = f64::from(glorot_limit(inputs, outputs));
        Ok(Dense {
            name: vb.prefix(),
            weight: vb.get_with_hints((outputs, inputs), "weight", Init::Uniform { lo: -limit, up: limit })?,
            bias: vb.get_with_hints(outputs, "bias", Init::Const(0.0))?,
            activation,
        })
    }

    /// `[batch, inputs]` → `[batch, outputs]` without recording a graph: the product `x·Wᵀ` is a
    /// fresh tensor that nothing else holds, so the bias and ReLU go into it in place, in one pass.
    pub fn infer(&self, input: &Tensor) -> Result<Tensor> {
        if !input.device().is_cpu() {
            return Ok(self.forward(input)?.detach());
        }
        let z = matmul(input, &self.weight.t()?)?;
        z.inplace_op2(&self.bias, &AddBias { relu: self.activation == Activation::Relu })?;
        Ok(z)
    }

    pub fn inputs(&self) -> usize {
        self.weight.dims()[1]
    }

    pub fn outputs(&self) -> usize {
        self.weight.dims()[0]
    }

    pub fn parameter_count(&self) -> usize {
        self.weight.elem_count() + self.bias.elem_count()
    }
}

impl Module for Dense {
    /// Candle's differentiable ops: `loss.backward()` reaches the weights through them.
    fn forward(&self, input: &Tensor) -> candle_core::Result<Tensor> {
        let z = input.matmul(&self.weight.t()?)?.broadcast_add(&self.bias)?;
        match self.activation {
            Activation::Relu => z.relu(),
            Activation::Linear => Ok(z),
        }
    }
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
pub fn check_images(images: &Tensor) -> Result<()> {
    match images.dims() {
        [_, IMAGE_PIXELS] => Ok(()),
        dims => Err(Error::Shape(format!(
            "images must be [batch, {IMAGE_PIXELS}], got {dims:?}; flatten each 28×28 image, e.g. `.reshape((1, {IMAGE_PIXELS}))`"
        ))),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub layer: String,
    pub output_shape: String,
    pub parameters: usize,
}

/// What `model.summary()` shows in Keras, as text (`Display`) or an HTML table in a notebook.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub rows: Vec<SummaryRow>,
}

impl Summary {
    pub fn total_parameters(&self) -> usize {
        self.rows.iter().map(|r| r.parameters).sum()
    }

    pub fn to_html(&self) -> String {
        let body: String = self
            .rows
            .iter()
            .map(|r| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td style=\"text-align:right\">{}</td></tr>",
                    r.layer,
                    r.output_shape,
                    thousands(r.parameters)
                )
            })
            .collect();
        format!(
            "<table><thead><tr><th>Layer (type)</th><th>Output shape</th><th>Param #</th></tr></thead>\
             <tbody>{body}</tbody><tfoot><tr><th colspan=\"2\">Total parameters (all trainable)</th>\
             <th style=\"text-align:right\">{}</th></tr></tfoot></table>",
            thousands(self.total_parameters())
        )
    }

    /// Called by the evcxr kernel when a cell ends in a `Summary`.
    pub fn evcxr_display(&self) {
        crate::display::html(&self.to_html());
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = "─".repeat(64);
        writeln!(f, "{:<30}{:<20}{:>14}", "Layer (type)", "Output shape", "Param #")?;
        writeln!(f, "{rule}")?;
        for r in &self.rows {
            writeln!(f, "{:<30}{:<20}{:>14}", r.layer, r.output_shape, thousands(r.parameters))?;
        }
        writeln!(f, "{rule}")?;
        write!(f, "Total params: {}", thousands(self.total_parameters()))
    }
}

/// 109386 → "109,386"
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
