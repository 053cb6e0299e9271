//! The original notebook's MLP: 784 → Dense 128 ReLU → Dense 64 ReLU → Dense 10 (logits).
//!
//! Softmax is not part of the model: `forward` returns logits, the loss works on logits
//! (numerically safer), and `probabilities` applies softmax only when you want to read them.

use crate::data::{IMAGE_PIXELS, NUM_CLASSES};
use crate::error::{Error, Result};
use crate::fused::AddBias;
use candle_core::{D, DType, Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt;

/// Units per layer, input first: 784 → 128 → 64 → 10.
pub const LAYER_SIZES: [usize; 4] = [IMAGE_PIXELS, 128, 64, NUM_CLASSES];

/// A fully connected layer, `y = x·Wᵀ + b`, optionally followed by ReLU.
#[derive(Debug, Clone)]
pub struct Dense {
    pub name: String,
    /// `[outputs, inputs]`, the layout of `candle_nn::Linear`.
    pub weight: Var,
    /// `[outputs]`
    pub bias: Var,
    pub relu: bool,
}

impl Dense {
    /// Keras' defaults: Glorot-uniform weights, zero biases.
    fn glorot(name: &str, inputs: usize, outputs: usize, relu: bool, rng: &mut ChaCha8Rng) -> Result<Self> {
        let limit = (6.0 / (inputs + outputs) as f32).sqrt();
        let weights: Vec<f32> = (0..inputs * outputs).map(|_| rng.random_range(-limit..limit)).collect();
        Ok(Dense {
            name: name.to_string(),
            weight: Var::from_vec(weights, (outputs, inputs), &Device::Cpu)?,
            bias: Var::zeros(outputs, DType::F32, &Device::Cpu)?,
            relu,
        })
    }

    /// `[batch, inputs]` → `[batch, outputs]`, outside any autograd graph (see
    /// [`Dense::forward_with_graph`]): the product `x·Wᵀ` is a fresh tensor that nothing else
    /// holds, so the bias and ReLU go into it in place, in one pass.
    pub fn forward(&self, input: &Tensor) -> Result<Tensor> {
        let z = input.detach().matmul(&self.weight.as_detached_tensor().t()?)?;
        z.inplace_op2(&self.bias.as_detached_tensor(), &AddBias { relu: self.relu })?;
        Ok(z)
    }

    /// The same with Candle's differentiable ops, recording the graph that `loss.backward()` needs.
    pub fn forward_with_graph(&self, input: &Tensor) -> Result<Tensor> {
        let z = input.matmul(&self.weight.t()?)?.broadcast_add(&self.bias)?;
        Ok(if self.relu { z.relu()? } else { z })
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

/// The multi-layer perceptron that classifies 28×28 digits.
#[derive(Debug, Clone)]
pub struct Mlp {
    pub layers: Vec<Dense>,
}

impl Mlp {
    /// A freshly initialised model; the same seed gives the same weights.
    pub fn new(seed: u64) -> Result<Self> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let last = LAYER_SIZES.len() - 2;
        let layers = LAYER_SIZES
            .windows(2)
            .enumerate()
            .map(|(i, io)| Dense::glorot(&format!("dense{}", i + 1), io[0], io[1], i < last, &mut rng))
            .collect::<Result<_>>()?;
        Ok(Mlp { layers })
    }

    /// Images `[batch, 784]` → logits `[batch, 10]`, without an autograd graph (the fast path
    /// of prediction and of the written-out backward pass).
    pub fn forward(&self, images: &Tensor) -> Result<Tensor> {
        check_images(images)?;
        self.layers.iter().try_fold(images.clone(), |x, layer| layer.forward(&x))
    }

    /// Logits recording the graph for `loss.backward()`, as `candle_nn` layers do.
    pub fn forward_with_graph(&self, images: &Tensor) -> Result<Tensor> {
        check_images(images)?;
        self.layers.iter().try_fold(images.clone(), |x, layer| layer.forward_with_graph(&x))
    }

    /// Softmax of the logits: `[batch, 10]`, each row sums to 1.
    pub fn probabilities(&self, images: &Tensor) -> Result<Tensor> {
        Ok(candle_nn::ops::softmax_last_dim(&self.forward(images)?)?)
    }

    /// The most likely digit of each image: `[batch]` u32.
    pub fn predict(&self, images: &Tensor) -> Result<Tensor> {
        Ok(self.forward(images)?.argmax(D::Minus1)?)
    }

    /// Weights and biases in layer order, the order the optimizer and the checkpoint use.
    pub fn parameters(&self) -> Vec<(String, &Var)> {
        self.layers
            .iter()
            .flat_map(|l| [(format!("{}.weight", l.name), &l.weight), (format!("{}.bias", l.name), &l.bias)])
            .collect()
    }

    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(Dense::parameter_count).sum()
    }

    /// A Keras-style table: layer, output shape, parameters.
    pub fn summary(&self) -> Summary {
        let mut rows = vec![SummaryRow {
            layer: "input (Flatten 28×28)".into(),
            output_shape: format!("(None, {})", IMAGE_PIXELS),
            parameters: 0,
        }];
        rows.extend(self.layers.iter().map(|l| SummaryRow {
            layer: format!("{} (Dense{})", l.name, if l.relu { ", ReLU" } else { ", logits" }),
            output_shape: format!("(None, {})", l.outputs()),
            parameters: l.parameter_count(),
        }));
        Summary { rows }
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
