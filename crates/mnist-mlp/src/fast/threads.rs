//! The crate's own thread pool for large matmuls, so the crate never touches the environment.
//!
//! At batch 32 handing a matmul to a second core costs more than it saves, while inference on
//! 10,000 images wants every core. [`crate::fast::matmul`] decides per product; the threads it hands
//! work to are these, not rayon's global pool, whose size a stray `RAYON_NUM_THREADS` decides.

use rayon::{ThreadPool, ThreadPoolBuilder};
use std::sync::OnceLock;

/// How many threads large matmuls use: every core this process may run on, or fewer when
/// `RAYON_NUM_THREADS` asks for fewer (more than the cores would only add waiting).
pub fn threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let asked = std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.trim().parse::<usize>().ok());
    asked.filter(|&n| n > 0).map_or(cores, |n| n.min(cores))
}

/// The pool, built on first use; `None` when one thread is all there is (or the system
/// refused to start more), and the work runs on the caller's thread.
pub(crate) fn pool() -> Option<&'static ThreadPool> {
    static POOL: OnceLock<Option<ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let threads = threads();
        let name = |i| format!("mnist-mlp-{i}");
        (threads > 1).then(|| ThreadPoolBuilder::new().num_threads(threads).thread_name(name).build().ok()).flatten()
    })
    .as_ref()
}
