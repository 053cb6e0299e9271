//! Gradients of the loss for one batch, two ways: by Candle's autograd (any model, the default of
//! [`crate::Classifier::gradients`]) and written out by hand for a stack of Dense layers (fast;
//! the override `Mlp` provides). A test checks that they agree, for any architecture.
//!
//! The loss is [`crate::loss`]'s cross-entropy, whose gradient at the logits is
//! `(softmax(zᵢ) − onehot(yᵢ)) / batch`. Both ways return Candle's [`GradStore`], keyed by
//! parameter, as `loss.backward()` does.

use crate::dense::Dense;
use crate::error::Result;
use crate::fast::matmul::matmul;
use crate::loss::{cross_entropy, cross_entropy_gradient};
use crate::scores::argmax;
use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Module, Tensor};
use serde::{Deserialize, Serialize};

/// How training computes gradients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backward {
    /// The backward pass written out layer by layer, where the model has one (`Mlp` does): no
    /// graph to record, fewer tensors. A model without one uses autograd.
    #[default]
    Manual,
    /// Candle records the forward pass and differentiates it (`loss.backward()`).
    Autograd,
}

/// One batch's gradients (looked up by parameter: `gradients.get(&layer.weight)`), its mean
/// loss and how many it got right.
#[derive(Debug)]
pub struct BatchGradients {
    pub gradients: GradStore,
    pub loss: f32,
    pub correct: usize,
}

/// The gradients of any `model` by Candle's autograd: `forward` records the graph, the loss is
/// differentiated back to every variable it reaches ([`cross_entropy`] checks the labels).
pub fn autograd(
    model: &(impl Module + ?Sized),
    device: &Device,
    images: &Tensor,
    labels: &[u32],
) -> Result<BatchGradients> {
    let logits = model.forward(&images.to_device(device)?)?;
    let loss = cross_entropy(&logits, labels)?;
    let predictions = logits.to_vec2::<f32>()?;
    Ok(BatchGradients {
        gradients: loss.backward()?,
        loss: loss.to_scalar::<f32>()?,
        correct: predictions.iter().zip(labels).filter(|&(row, &label)| argmax(row) == label as usize).count(),
    })
}

/// The gradients of a stack of Dense `layers` (input side first) written out by hand: forward
/// keeping every layer's output, then the chain rule from the logits back to the input.
pub(crate) fn by_hand(layers: &[Dense], device: &Device, images: &Tensor, labels: &[u32]) -> Result<BatchGradients> {
    // activations[i] is the input of layer i; the last entry is the logits.
    let mut activations = vec![images.to_device(device)?];
    for layer in layers {
        let output = layer.infer(activations.last().expect("starts with the images"))?;
        activations.push(output);
    }
    let (loss, correct, mut grad) = cross_entropy_gradient(&activations[layers.len()], labels)?;

    // ones·dZ sums dZ over the batch for the bias gradient; one small matmul beats `sum(0)`.
    let ones = Tensor::ones((1, labels.len()), DType::F32, device)?; // [1, batch]
    let mut gradients = GradStore::default();
    for (i, layer) in layers.iter().enumerate().rev() {
        grad = layer.activation.backward(grad, &activations[i + 1])?;
        gradients.insert(&layer.weight, matmul(&grad.t()?, &activations[i])?); // [out, in]
        gradients.insert(&layer.bias, matmul(&ones, &grad)?.squeeze(0)?); // [out]
        if i > 0 {
            grad = matmul(&grad, &layer.weight)?; // [batch, in]
        }
    }
    Ok(BatchGradients { gradients, loss, correct })
}
