//! A fully connected layer, `y = activation(x·Wᵀ + b)`: its output and its derivative, written
//! once. `forward` computes the output with differentiable ops (autograd reaches the weights
//! through them), `infer` with the fast CPU ops and no graph; both follow
//! [`Dense::output`], so they cannot disagree about what a layer computes.

use crate::error::Result;
use crate::fast::fused::AddBias;
use crate::fast::matmul::{linear_recorded, matmul};
use candle_core::DType;
use candle_core::{Module, Tensor};
use candle_nn::{Init, VarBuilder};
use serde::{Deserialize, Serialize};

/// What a Dense layer applies to its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `max(z, 0)`: the hidden layers.
    Relu,
    /// `z` as it is (Keras' name): the last layer, whose outputs are the logits.
    Linear,
}

impl Activation {
    /// `∂L/∂z` from `∂L/∂y` and the layer's output `y`: ReLU passes the gradient where its output
    /// is positive (`sign(y)` is that 0/1 mask), Linear passes it whole.
    pub(crate) fn backward(self, grad: Tensor, output: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Activation::Relu => (grad * output.sign()?)?,
            Activation::Linear => grad,
        })
    }
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

/// Which ops compute a layer's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ops {
    /// Differentiable ops: the crate's recorded `x·Wᵀ` on the CPU (Candle's `matmul`
    /// elsewhere), then Candle's `broadcast_add` and `relu`.
    Graph,
    /// gemm called directly, then the bias and ReLU in place, in one pass over the fresh product
    /// (see [`crate::fast`]): the same numbers, bit for bit, with no graph.
    InPlace,
}

impl Dense {
    /// The layer over `vb`'s `weight` and `bias`; when `vb` is backed by a `VarMap` that lacks
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

    /// `[batch, inputs]` → `[batch, outputs]` without recording a graph; off the CPU, `forward`
    /// detached.
    pub fn infer(&self, input: &Tensor) -> Result<Tensor> {
        if !input.device().is_cpu() {
            return Ok(self.output(input, Ops::Graph)?.detach());
        }
        Ok(self.output(input, Ops::InPlace)?)
    }

    /// The one definition of the layer: `z = x·Wᵀ`, then `+ b` and the activation.
    fn output(&self, input: &Tensor, ops: Ops) -> candle_core::Result<Tensor> {
        let relu = self.activation == Activation::Relu;
        match ops {
            Ops::Graph => {
                let product = if input.device().is_cpu() && input.dtype() == DType::F32 {
                    linear_recorded(input, &self.weight)?
                } else {
                    input.matmul(&self.weight.t()?)?
                };
                let z = product.broadcast_add(&self.bias)?;
                if relu { z.relu() } else { Ok(z) }
            }
            Ops::InPlace => {
                let z = matmul(input, &self.weight.t()?)?;
                z.inplace_op2(&self.bias, &AddBias { relu })?;
                Ok(z)
            }
        }
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
    /// Differentiable ops (the crate's recorded `x·Wᵀ` on the CPU, then Candle's):
    /// `loss.backward()` reaches the weights through them.
    fn forward(&self, input: &Tensor) -> candle_core::Result<Tensor> {
        self.output(input, Ops::Graph)
    }
}

/// Keras' Glorot-uniform bound: weights are drawn from U(−l, l) with l = √(6 / (inputs + outputs)).
pub(crate) fn glorot_limit(inputs: usize, outputs: usize) -> f32 {
    (6.0 / (inputs + outputs) as f32).sqrt()
}
