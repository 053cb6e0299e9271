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

pub mod backprop;
pub mod checkpoint;
pub mod checksums;
pub mod data;
pub mod display;
pub mod error;
pub mod eval;
mod fused;
pub mod gallery;
pub mod history;
pub mod image;
mod matmul;
pub mod model;
pub mod optim;
pub mod pad;
pub mod plot;
pub mod read;
pub mod save_dir;
pub mod scores;
pub mod threads;
pub mod train;

// Re-exported so a notebook needs one `:dep` and never meets two versions of a crate
// (the `image` crate comes re-exported inside the `image` module).
pub use candle_core;
pub use candle_nn;
pub use plotters;

pub use error::{BadLabel, Error, IdxProblem, Result};

/// What a notebook or program usually needs, in one `use`.
pub mod prelude {
    pub use crate::backprop::Backward;
    pub use crate::checkpoint::ModelCard;
    pub use crate::data::{IMAGE_PIXELS, IMAGE_SIDE, Mnist, NUM_CLASSES};
    pub use crate::error::{Error, Result};
    pub use crate::eval::{ConfusionMatrix, Evaluation, evaluate};
    pub use crate::history::{EpochStats, History};
    pub use crate::model::{Activation, Dense, Mlp, MlpConfig, Summary};
    pub use crate::optim::{Adam, AdamConfig};
    pub use crate::pad::DrawingPad;
    pub use crate::plot::{Series, Svg};
    pub use crate::train::{Progress, TrainConfig, print_epochs, train, train_until};
    pub use crate::{gallery, plot};
    pub use candle_core::{D, DType, Device, IndexOp, Module, Tensor};
    pub use candle_nn::{Optimizer, VarBuilder, VarMap};
}
