//! The seam for a new model: what [`crate::train::train`] and [`crate::eval::evaluate`] need of
//! one. Any Candle [`Module`] from images `[batch, 784]` to logits `[batch, 10]` whose variables
//! sit in a [`VarMap`] qualifies; autograd gives its gradients. `Mlp` is one, and overrides
//! [`Classifier::gradients`] with its backward written out by hand.

use crate::backprop::{self, Backward, BatchGradients};
use crate::error::Result;
use candle_core::{Device, Module, Tensor};
use candle_nn::VarMap;

/// A model that classifies digits and can be trained: its logits, its variables, its seed.
///
/// ```no_run
/// use mnist_mlp::prelude::*;
/// use mnist_mlp::Classifier;
/// use mnist_mlp::candle_nn::{Linear, VarBuilder, VarMap, linear};
///
/// // Candle's own MNIST example model, trained by this crate's loop.
/// struct TwoLinear { first: Linear, second: Linear, vars: VarMap }
///
/// impl Module for TwoLinear {
///     fn forward(&self, images: &Tensor) -> mnist_mlp::candle_core::Result<Tensor> {
///         images.apply(&self.first)?.relu()?.apply(&self.second)
///     }
/// }
///
/// impl Classifier for TwoLinear {
///     fn vars(&self) -> &VarMap { &self.vars }
///     fn device(&self) -> &Device { &Device::Cpu }
///     fn seed(&self) -> u64 { 0 }
/// }
///
/// let vars = VarMap::new();
/// let vb = VarBuilder::from_varmap(&vars, DType::F32, &Device::Cpu);
/// let mut model = TwoLinear { first: linear(784, 100, vb.pp("ln1"))?, second: linear(100, 10, vb.pp("ln2"))?, vars };
/// let data = Mnist::load()?;
/// let history = train(&mut model, &data, &TrainConfig::default(), print_epochs)?;
/// # Ok::<(), mnist_mlp::Error>(())
/// ```
pub trait Classifier: Module {
    /// Every trainable parameter, by name: what the optimizer updates and a diverged epoch restores.
    fn vars(&self) -> &VarMap;

    /// Where the parameters live; images are moved there.
    fn device(&self) -> &Device;

    /// The seed of the initial weights. Training shuffles with it unless its config names
    /// another ([`crate::train::TrainConfig::seed`]), so one number decides a whole run.
    fn seed(&self) -> u64;

    /// Images `[batch, 784]` → logits `[batch, 10]` with nothing recorded for autograd: what
    /// evaluation runs. By default `forward`, detached.
    fn infer(&self, images: &Tensor) -> Result<Tensor> {
        Ok(self.forward(&images.to_device(self.device())?)?.detach())
    }

    /// The gradients of the loss on one batch. By default Candle's autograd, whatever `backward`
    /// asks: a model without a backward written by hand has only that one.
    fn gradients(&self, images: &Tensor, labels: &[u32], _backward: Backward) -> Result<BatchGradients> {
        backprop::autograd(self, self.device(), images, labels)
    }
}
