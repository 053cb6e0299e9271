//! Adam exactly as Keras has it, updating each parameter in place in one pass.
//!
//! Per parameter `w` with gradient `g`, at step `t`:
//! ```text
//! m ← m + (1 − β1)·(g − m)            running mean of the gradient
//! v ← v + (1 − β2)·(g² − v)           running mean of its square
//! α ← lr · √(1 − β2ᵗ) / (1 − β1ᵗ)     bias correction folded into the step size
//! w ← w − α · m / (√v + ε)
//! ```
//! The four lines run as one loop over the parameter's memory (a Candle in-place op), instead of
//! a dozen tensor ops that would each allocate a new tensor.

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, DType, InplaceOp2, Layout, Var, bail};
use candle_nn::Optimizer;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

/// Keras' defaults: lr 1e-3, β1 0.9, β2 0.999, ε 1e-7, no weight decay.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    pub learning_rate: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub epsilon: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig { learning_rate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }
    }
}

/// The optimizer's memory of one parameter.
#[derive(Debug, Clone)]
struct Moments {
    mean: Vec<f32>,
    variance: Vec<f32>,
}

/// Adam as a Candle [`Optimizer`]: `Adam::new(model.vars().all_vars(), config)`, then
/// `adam.step(&gradients)` with the gradients of `loss.backward()` or of
/// [`crate::backprop::gradients`], each parameter finding its own by identity. A parameter
/// without a gradient (one the loss does not reach) is left as it is, as Candle's optimizers do.
#[derive(Debug, Clone)]
pub struct Adam {
    pub config: AdamConfig,
    step: i32,
    parameters: Vec<(Var, Moments)>,
}

impl Optimizer for Adam {
    type Config = AdamConfig;

    fn new(vars: Vec<Var>, config: AdamConfig) -> candle_core::Result<Self> {
        if let Some(var) = vars.iter().find(|v| v.dtype() != DType::F32) {
            bail!("Adam updates f32 parameters, got a {:?} parameter of shape {:?}", var.dtype(), var.dims());
        }
        let parameters = vars
            .into_iter()
            .map(|var| {
                let n = var.elem_count();
                (var, Moments { mean: vec![0.0; n], variance: vec![0.0; n] })
            })
            .collect();
        Ok(Adam { config, step: 0, parameters })
    }

    /// Applies one update to every parameter that has a gradient in `gradients`.
    fn step(&mut self, gradients: &GradStore) -> candle_core::Result<()> {
        self.step += 1;
        let c = self.config;
        let alpha = c.learning_rate * (1.0 - c.beta2.powi(self.step)).sqrt() / (1.0 - c.beta1.powi(self.step));
        let coefficients = Coefficients {
            alpha: alpha as f32,
            beta1: c.beta1 as f32,
            beta2: c.beta2 as f32,
            epsilon: c.epsilon as f32,
        };
        for (parameter, moments) in &mut self.parameters {
            if let Some(gradient) = gradients.get(parameter) {
                parameter.inplace_op2(
                    &gradient.contiguous()?,
                    &AdamUpdate { moments: RefCell::new(moments), coefficients },
                )?;
            }
        }
        Ok(())
    }

    fn learning_rate(&self) -> f64 {
        self.config.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f64) {
        self.config.learning_rate = learning_rate;
    }
}

/// One step's numbers, shared by every element.
#[derive(Debug, Clone, Copy)]
struct Coefficients {
    alpha: f32,
    beta1: f32,
    beta2: f32,
    epsilon: f32,
}

struct AdamUpdate<'a> {
    moments: RefCell<&'a mut Moments>,
    coefficients: Coefficients,
}

impl InplaceOp2 for AdamUpdate<'_> {
    fn name(&self) -> &'static str {
        "adam-update"
    }

    fn cpu_fwd(
        &self,
        weights: &mut CpuStorage,
        wl: &Layout,
        gradient: &CpuStorage,
        gl: &Layout,
    ) -> candle_core::Result<()> {
        let (CpuStorage::F32(weights), CpuStorage::F32(gradient)) = (weights, gradient) else {
            bail!("adam-update: parameters and gradients must be f32");
        };
        let (Some((w0, w1)), Some((g0, g1))) = (wl.contiguous_offsets(), gl.contiguous_offsets()) else {
            bail!("adam-update: parameters and gradients must be contiguous");
        };
        let Moments { mean, variance } = &mut **self.moments.borrow_mut();
        if w1 - w0 != g1 - g0 || mean.len() != w1 - w0 {
            bail!("adam-update: {} weights, {} gradients, {} moments", w1 - w0, g1 - g0, mean.len());
        }
        self.coefficients.apply(&mut weights[w0..w1], &gradient[g0..g1], mean, variance);
        Ok(())
    }
}

impl Coefficients {
    /// Four separate slices on purpose: the compiler then knows they do not overlap and keeps
    /// each new mean in a register. (Taken through one struct, the loop re-read it from memory
    /// right after storing it, and training was 20 % slower.)
    fn apply(&self, weights: &mut [f32], gradient: &[f32], mean: &mut [f32], variance: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has just been found to support AVX-512F.
            unsafe { self.apply_avx512(weights, gradient, mean, variance) };
            return;
        }
        self.apply_portable(weights, gradient, mean, variance);
    }

    /// The update, element by element; the compiler vectorises it for the target it builds.
    #[inline(always)]
    fn apply_portable(&self, weights: &mut [f32], gradient: &[f32], mean: &mut [f32], variance: &mut [f32]) {
        let (b1, b2) = (self.beta1, self.beta2);
        let values = weights.iter_mut().zip(gradient).zip(mean.iter_mut().zip(variance));
        for ((w, &g), (m, v)) in values {
            *m = flush_to_zero(*m + (1.0 - b1) * (g - *m));
            *v = flush_to_zero(*v + (1.0 - b2) * (g * g - *v));
            *w -= self.alpha * *m / (v.sqrt() + self.epsilon);
        }
    }

    /// The same loop compiled for AVX-512: 16 lanes of sqrt and divide instead of 4, whatever
    /// `target-cpu` the crate was built for.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn apply_avx512(&self, weights: &mut [f32], gradient: &[f32], mean: &mut [f32], variance: &mut [f32]) {
        self.apply_portable(weights, gradient, mean, variance);
    }
}

/// Zero for subnormal numbers (below 1.2e-38). Where a pixel is always blank its gradient is
/// zero, so its mean decays by β1 every step and would spend ~150 steps as a subnormal, which the
/// CPU computes with slowly; flushing it costs nothing in accuracy (ε is 1e-7). TensorFlow does
/// the same for Keras with the CPU's flush-to-zero mode.
#[inline(always)]
fn flush_to_zero(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE { 0.0 } else { x }
}
