//! Standard output and error that never panic, so a failing terminal cannot cost a trained model.
//!
//! Rust ignores SIGPIPE, so a closed pipe (`mnist train | head -1`) shows up as a write error,
//! and `println!` panics on it. Here a closed pipe silences stdout for good, quietly, as SIGPIPE
//! would, but the command goes on (a model is still saved); any other failure (`> /dev/full`)
//! is said once on stderr and makes the run fail at the end.

use std::fmt::Display;
use std::io::{self, Write};

#[derive(Debug, Default)]
pub struct Output {
    state: State,
}

#[derive(Debug, Default, PartialEq, Eq)]
enum State {
    #[default]
    Open,
    /// The reader went away: nothing more is written, and that is no failure.
    Closed,
    /// Writing failed otherwise: nothing more is written, and the run fails.
    Failed,
}

impl Output {
    /// Writes one line to stdout, unless an earlier write failed.
    pub fn line(&mut self, text: impl Display) {
        if self.state == State::Open {
            let written = writeln!(io::stdout().lock(), "{text}");
            self.check(written);
        }
    }

    /// Whether the reader of stdout went away: later output is pointless.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Flushes stdout; `true` when some output was lost to an error other than a closed pipe.
    pub fn finish(&mut self) -> bool {
        if self.state == State::Open {
            let flushed = io::stdout().lock().flush();
            self.check(flushed);
        }
        self.state == State::Failed
    }

    fn check(&mut self, result: io::Result<()>) {
        match result {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => self.state = State::Closed,
            Err(e) => {
                error(format_args!("cannot write to standard output: {e}"));
                self.state = State::Failed;
            }
        }
    }
}

/// `error: …` on stderr; a failure to write it is ignored (there is nowhere left to say it).
pub fn error(message: impl Display) {
    let _ = writeln!(io::stderr().lock(), "error: {message}");
}

/// `warning: …` on stderr, likewise.
pub fn warning(message: impl Display) {
    let _ = writeln!(io::stderr().lock(), "warning: {message}");
}
