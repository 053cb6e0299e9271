//! One error type for the crate: every variant names the file (or setting) at fault.

use crate::history::History;
use crate::sizes::NUM_CLASSES;
use std::path::PathBuf;

/// What can go wrong while loading data, building, training or saving a model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },

    #[error(
        "MNIST file `{file}` not found; looked in {searched}. \
         Set {variable} to the folder that holds the IDX files (gzip'd or raw)"
    )]
    DataNotFound { file: String, searched: String, variable: &'static str },

    #[error("{path}: {problem}")]
    Idx { path: PathBuf, problem: IdxProblem },

    #[error("{path}: SHA-256 mismatch: expected {expected}, found {actual} (re-copy the file)")]
    Checksum { path: PathBuf, expected: String, actual: String },

    #[error("{images} holds {image_count} images but {labels} holds {label_count} labels")]
    CountMismatch { images: PathBuf, image_count: usize, labels: PathBuf, label_count: usize },

    #[error("{path}: {problem}")]
    File { path: PathBuf, problem: String },

    #[error("shape mismatch: {0}")]
    Shape(String),

    #[error(transparent)]
    Label(#[from] BadLabel),

    #[error("image: {0}")]
    Image(String),

    #[error("drawing a chart: {0}")]
    Plot(String),

    #[error("invalid setting: {0}")]
    Config(String),

    #[error(
        "training diverged: the loss became {loss} at epoch {epoch}, step {step}; \
         the model keeps the weights it had when that epoch began. Try a smaller learning rate"
    )]
    Diverged {
        epoch: usize,
        step: usize,
        loss: f32,
        /// The epochs completed before (the weights the model keeps are theirs).
        completed: Box<History>,
    },

    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Why an IDX file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdxProblem {
    #[error("not an IDX {kind} file: magic number {found:#010x}, expected {expected:#010x}")]
    BadMagic { kind: &'static str, expected: u32, found: u32 },
    #[error("truncated: the header promises {expected} bytes of data, the file holds {found}")]
    Truncated { expected: u64, found: u64 },
    /// `extra` is counted up to 65,536: a gzip bomb is not unpacked to its end.
    #[error("{}{extra} unexpected bytes after the {expected} bytes of data the header promises",
        if *extra >= 65_536 { "at least " } else { "" })]
    TrailingBytes { expected: u64, extra: u64 },
    #[error("holds no {kind}: the header's count is 0")]
    Empty { kind: &'static str },
    #[error("the header promises {count} {kind}; MNIST and Fashion-MNIST files hold at most {max}")]
    TooMany { kind: &'static str, count: u32, max: u32 },
    #[error("images are {rows}×{cols}, expected 28×28")]
    BadDimensions { rows: u32, cols: u32 },
    #[error(transparent)]
    BadLabel(#[from] BadLabel),
    #[error("not a valid gzip stream: {0}")]
    Gzip(String),
    #[error("cannot be read: {0}")]
    Read(String),
}

/// A label outside 0–9, wherever labels come from (a file, a tensor, a slice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("label {label} at index {index} is not a digit 0–9")]
pub struct BadLabel {
    pub index: usize,
    pub label: u32,
}

impl BadLabel {
    /// The first label that is not a digit 0–9: the one check of every label the crate reads.
    pub fn find(labels: impl IntoIterator<Item = u32>) -> Option<BadLabel> {
        let mut indexed = labels.into_iter().enumerate();
        indexed.find(|&(_, label)| label as usize >= NUM_CLASSES).map(|(index, label)| BadLabel { index, label })
    }

    /// `Err` with the first bad label, if any.
    pub fn check(labels: &[u32]) -> Result<(), BadLabel> {
        BadLabel::find(labels.iter().copied()).map_or(Ok(()), Err)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    pub(crate) fn file(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        Error::File { path: path.into(), problem: problem.into() }
    }
}
