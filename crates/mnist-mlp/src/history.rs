//! What training returns: per epoch the training and test loss and accuracy, and the time.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One epoch's figures, as Keras' `fit` and `evaluate` report them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// 1-based.
    pub epoch: usize,
    /// Mean loss and accuracy over the epoch's batches (the weights change as it goes).
    pub train_loss: f32,
    pub train_accuracy: f32,
    pub test_loss: f32,
    pub test_accuracy: f32,
    /// Time spent training in this epoch, without the test evaluation.
    pub seconds: f64,
}

impl fmt::Display for EpochStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "epoch {}: loss {:.4}, accuracy {:.4}, test loss {:.4}, test accuracy {:.4} ({:.2} s)",
            self.epoch, self.train_loss, self.train_accuracy, self.test_loss, self.test_accuracy, self.seconds
        )
    }
}

/// The figures of every epoch, in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub epochs: Vec<EpochStats>,
    /// Stopped early (Ctrl-C): the last epoch is partial.
    #[serde(default)]
    pub interrupted: bool,
}

impl History {
    /// The test accuracy after the last epoch.
    pub fn test_accuracy(&self) -> Option<f32> {
        self.epochs.last().map(|e| e.test_accuracy)
    }

    /// A warning when training learned nothing: the loss stayed near ln 10 ≈ 2.30, what guessing
    /// among ten digits scores. `train::advice` says what to change.
    pub fn warning(&self) -> Option<String> {
        let last = self.epochs.last()?;
        (last.train_loss > 2.0 || last.test_accuracy < 0.2).then(|| {
            format!(
                "training learned nothing: after {} epoch(s) the loss is {:.3} (guessing scores ln 10 ≈ 2.303) \
                 and test accuracy {:.3}",
                self.epochs.len(),
                last.train_loss,
                last.test_accuracy
            )
        })
    }

    /// Median seconds per epoch.
    pub fn median_epoch_seconds(&self) -> Option<f64> {
        let mut seconds: Vec<f64> = self.epochs.iter().map(|e| e.seconds).collect();
        seconds.sort_by(f64::total_cmp);
        seconds.get(seconds.len() / 2).copied()
    }

    pub fn to_html(&self) -> String {
        let rows: String = self
            .epochs
            .iter()
            .map(|e| {
                format!(
                    "<tr><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.2}</td></tr>",
                    e.epoch, e.train_loss, e.train_accuracy, e.test_loss, e.test_accuracy, e.seconds
                )
            })
            .collect();
        let warning = self.warning().map(|w| format!("<p style=\"color:#c00\">warning: {w}</p>")).unwrap_or_default();
        format!(
            "<table><thead><tr><th>epoch</th><th>train loss</th><th>train accuracy</th>\
             <th>test loss</th><th>test accuracy</th><th>seconds</th></tr></thead><tbody>{rows}</tbody></table>{warning}"
        )
    }
}

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "epoch  train loss  train acc  test loss  test acc  seconds")?;
        for e in &self.epochs {
            writeln!(
                f,
                "{:>5}  {:>10.4}  {:>9.4}  {:>9.4}  {:>8.4}  {:>7.2}",
                e.epoch, e.train_loss, e.train_accuracy, e.test_loss, e.test_accuracy, e.seconds
            )?;
        }
        Ok(())
    }
}
