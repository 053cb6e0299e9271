//! Thread counts per phase, chosen by the crate rather than left to the environment.
//!
//! Candle's CPU matmul reads `RAYON_NUM_THREADS` on every call. At batch 32 one thread beats two
//! (handing a 32-row matmul to another core costs more than it saves), while inference on
//! 10,000 images wants every core. [`Phase`] sets the variable for its lifetime and restores it.

use std::ffi::OsString;
use std::sync::{Mutex, MutexGuard, TryLockError};

const VAR: &str = "RAYON_NUM_THREADS";

/// Held by the one phase in force; a phase that finds it taken (nested, or on another thread)
/// changes nothing, so phases never wait on each other.
static LOCK: Mutex<()> = Mutex::new(());

/// While alive, Candle's matmuls use the thread count it was made with.
pub struct Phase {
    held: Option<(Option<OsString>, MutexGuard<'static, ()>)>,
}

impl Phase {
    /// One thread: the small matmuls of a training step.
    pub fn training() -> Phase {
        Phase::with_threads(1)
    }

    /// Every core (or what the user set in `RAYON_NUM_THREADS`): batched inference.
    pub fn inference() -> Phase {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Phase::with_threads(cores)
    }

    fn with_threads(threads: usize) -> Phase {
        let lock = match LOCK.try_lock() {
            Ok(lock) => lock,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return Phase { held: None },
        };
        // Build the global pool before any change, so it gets every core even if the first
        // parallel work happens inside a one-thread phase.
        candle_core::utils::init_global_threadpool();
        let previous = std::env::var_os(VAR);
        if previous.is_none() || threads == 1 {
            set(Some(threads.to_string().into()));
        }
        Phase { held: Some((previous, lock)) }
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        if let Some((previous, _lock)) = self.held.take() {
            set(previous);
        }
    }
}

fn set(value: Option<OsString>) {
    // SAFETY: the variable is only written here, under LOCK; this crate's threads read it through
    // `std::env`, which synchronises with these writes, and no C code reads it.
    unsafe {
        match value {
            Some(value) => std::env::set_var(VAR, value),
            None => std::env::remove_var(VAR),
        }
    }
}
