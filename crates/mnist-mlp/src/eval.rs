//! Batched evaluation: loss, accuracy, the confusion matrix and which images were misclassified.

use crate::classifier::Classifier;
use crate::error::{BadLabel, Error, Result};
use crate::loss;
use crate::sizes::NUM_CLASSES;
use candle_core::Tensor;
use std::fmt;

/// Rows per forward pass: bounds memory without costing speed.
const CHUNK: usize = 10_000;

/// How a model did on a labelled set.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Mean sparse categorical cross-entropy.
    pub loss: f32,
    pub accuracy: f32,
    /// The predicted digit of each image, in order.
    pub predictions: Vec<u32>,
    pub labels: Vec<u32>,
    pub confusion: ConfusionMatrix,
}

impl Evaluation {
    /// Indices of the images whose prediction is wrong.
    pub fn misclassified(&self) -> Vec<usize> {
        let pairs = self.predictions.iter().zip(&self.labels).enumerate();
        pairs.filter(|(_, (p, l))| p != l).map(|(i, _)| i).collect()
    }
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "loss {:.4}, accuracy {:.4} ({} of {} wrong)",
            self.loss,
            self.accuracy,
            self.misclassified().len(),
            self.labels.len()
        )
    }
}

/// `counts[label][prediction]`: the diagonal holds the correct answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    pub counts: [[usize; NUM_CLASSES]; NUM_CLASSES],
}

impl ConfusionMatrix {
    /// Counts each (label, prediction) pair; both must be digits 0–9 and equally many.
    pub fn new(labels: &[u32], predictions: &[u32]) -> Result<Self> {
        if labels.len() != predictions.len() {
            return Err(Error::Shape(format!("{} labels but {} predictions", labels.len(), predictions.len())));
        }
        BadLabel::check(labels)?;
        BadLabel::check(predictions)?;
        let mut counts = [[0; NUM_CLASSES]; NUM_CLASSES];
        for (&l, &p) in labels.iter().zip(predictions) {
            counts[l as usize][p as usize] += 1;
        }
        Ok(ConfusionMatrix { counts })
    }
}

/// Evaluates `model` (an `Mlp` or any other [`Classifier`]) on `images` `[n, 784]` and `labels`
/// `[n]`, in batches; `Mlp`'s run on every core.
pub fn evaluate<M: Classifier + ?Sized>(model: &M, images: &Tensor, labels: &Tensor) -> Result<Evaluation> {
    let labels = labels.to_vec1::<u32>()?;
    let count = images.dim(0)?;
    if count != labels.len() || count == 0 {
        return Err(Error::Shape(format!("{count} images but {} labels", labels.len())));
    }
    BadLabel::check(&labels)?;
    let (mut total_loss, mut predictions) = (0.0f64, Vec::with_capacity(count));
    for start in (0..count).step_by(CHUNK) {
        let len = CHUNK.min(count - start);
        let logits = model.infer(&images.narrow(0, start, len)?)?.to_vec2::<f32>()?;
        for (row, &label) in logits.iter().zip(&labels[start..start + len]) {
            let read = loss::Row::new(row, label);
            total_loss += f64::from(read.loss);
            predictions.push(read.predicted as u32);
        }
    }
    let correct = predictions.iter().zip(&labels).filter(|(p, l)| p == l).count();
    Ok(Evaluation {
        loss: (total_loss / count as f64) as f32,
        accuracy: correct as f32 / count as f32,
        confusion: ConfusionMatrix::new(&labels, &predictions)?,
        predictions,
        labels,
    })
}
