//! The classic MNIST digit classifier on Candle, for the project's Jupyter notebooks and CLI.
//!
//! ```no_run
//! use mnist_mlp::prelude::*;
//! let data = Mnist::load()?;
//! let mut model = MlpConfig::default().init(&Device::Cpu)?; // 784 → 128 → 64 → 10, seed 42
//! let history = train(&mut model, &data, &TrainConfig::default(), |_| {})?;
//! println!("test accuracy: {:.4}", history.test_accuracy().unwrap_or_default());
//! let logits = data.test_images.apply(&model)?; // a candle `Module`
//! # Ok::<(), mnist_mlp::Error>(())
//! ```
//!
//! The modules form layers, each using only those below it (`docs/code.md` draws them); any other
//! model trains and evaluates through the same loop by implementing [`Classifier`].

// Leaf definitions: sizes, reading scores, training records.
pub mod history;
pub mod scores;
mod sizes;
// The one error type.
mod error;
// Crate-private machinery: safe file reading and writing, CPU fast paths.
mod fast;
mod io;
// Data, building blocks, the loss, the optimizer.
pub mod data;
mod dense;
mod loss;
pub mod optim;
mod summary;
// Gradients, the seam for a model, training and evaluation.
pub mod backprop;
mod classifier;
pub mod eval;
pub mod train;
// A model folder on disk, the drawing pad's page, your own digits.
mod checkpoint;
pub mod image;
mod pad;
// The classic model, with everything it does.
pub mod model;
// What the notebooks show.
mod show;

pub use show::{gallery, plot};

// Re-exported so a notebook needs one `:dep` and never meets two versions of a crate
// (the `image` crate comes re-exported inside the `image` module).
pub use candle_core;
pub use candle_nn;
pub use plotters;

pub use classifier::Classifier;
pub use error::{BadLabel, Error, IdxProblem, Result};

/// What the notebooks and the `mnist` command use, in one `use`: nothing more, so that what a
/// notebook names is easy to find.
pub mod prelude {
    pub use crate::backprop::Backward;
    pub use crate::data::Mnist;
    pub use crate::error::{Error, Result};
    pub use crate::eval::{Evaluation, evaluate};
    pub use crate::history::{EpochStats, History};
    pub use crate::model::{Dense, Mlp, MlpConfig, ModelCard};
    pub use crate::optim::{Adam, AdamConfig};
    pub use crate::show::plot::Series;
    pub use crate::train::{Progress, TrainConfig, print_epochs, train, train_until};
    pub use crate::{gallery, plot};
    pub use candle_core::{DType, Device, Module, Tensor};
    pub use candle_nn::Optimizer;
}

/// Internals the tests and fuzz targets exercise directly; not part of the API.
#[doc(hidden)]
pub mod testing {
    pub use crate::io::idx::{IdxKind, decode_idx};
    pub use crate::io::read::{CONFIG, read_limited};
    pub use crate::loss::cross_entropy_gradient;
    use crate::model::{Mlp, ModelCard};
    use std::path::Path;

    /// A model from the bytes of its two files, as `Mlp::load` reads them (the fuzz target's door).
    pub fn from_bytes(
        config_json: &[u8],
        config: &Path,
        weights_bytes: &[u8],
        weights: &Path,
        device: &candle_core::Device,
    ) -> crate::Result<(Mlp, ModelCard)> {
        Mlp::from_bytes(config_json, config, weights_bytes, weights, device)
    }
}
