//! Hostile data files cost bounded memory: the peak of live heap bytes is measured by a counting
//! allocator (this test binary's own), while gzip bombs built here are read.

use flate2::{Compression, write::GzEncoder};
use mnist_mlp::IdxProblem;
use mnist_mlp::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MB: usize = 1 << 20;

/// A gzip stream of `megabytes` MB of zeros, cheaply: one member of 1 MB, repeated (gzip allows
/// several members in a row, and `MultiGzDecoder` reads them all).
fn zeros_gz(megabytes: usize) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(&vec![0; MB]).unwrap();
    encoder.finish().unwrap().repeat(megabytes)
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn header(magic: u32, count: u32) -> Vec<u8> {
    let fields: &[u32] = if magic == 2051 { &[magic, count, 28, 28] } else { &[magic, count] };
    fields.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// A data folder: valid small files, with `name` replaced by `bytes`.
fn folder_with(name: &str, bytes: Vec<u8>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (file, magic) in [
        ("train-images-idx3-ubyte", 2051),
        ("train-labels-idx1-ubyte", 2049),
        ("t10k-images-idx3-ubyte", 2051),
        ("t10k-labels-idx1-ubyte", 2049),
    ] {
        let mut content = header(magic, 1);
        content.resize(content.len() + if magic == 2051 { 784 } else { 1 }, 0);
        std::fs::write(dir.path().join(format!("{file}.gz")), gz(&content)).unwrap();
    }
    std::fs::write(dir.path().join(format!("{name}.gz")), bytes).unwrap();
    dir
}

/// The error loading `dir` gives, the peak heap bytes and the time it took.
fn load_measured(dir: &Path) -> (Error, usize, Duration) {
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
    let before = LIVE.load(Ordering::Relaxed);
    let started = Instant::now();
    let error = Mnist::load_dir(dir).map(drop).unwrap_err();
    (error, PEAK.load(Ordering::Relaxed) - before, started.elapsed())
}

// One test, so that no other test's allocations mix into the peaks.
#[test]
fn gzip_bombs_and_lying_headers_cost_bounded_memory() {
    // 4,294,967,295 images promised, 4 GB of zeros behind the header in 4 MB of gzip.
    let mut bomb = gz(&header(2051, u32::MAX));
    bomb.extend(zeros_gz(4_096));
    let dir = folder_with("train-images-idx3-ubyte", bomb);
    let (error, peak, took) = load_measured(dir.path());
    assert!(matches!(error, Error::Idx { problem: IdxProblem::TooMany { .. }, .. }), "{error}");
    assert!(peak < 8 * MB, "{} MB for a refused header", peak / MB);
    assert!(took < Duration::from_secs(10), "{took:?}");

    // 1,000,000 blank images in 760 KB: no more than an MNIST file may hold.
    let mut blank = gz(&header(2051, 1_000_000));
    blank.extend(zeros_gz(748));
    let dir = folder_with("train-images-idx3-ubyte", blank);
    let (error, peak, _) = load_measured(dir.path());
    assert!(matches!(error, Error::Idx { problem: IdxProblem::TooMany { count: 1_000_000, .. }, .. }), "{error}");
    assert!(peak < 8 * MB, "{} MB", peak / MB);

    // The largest count allowed, then 2 GB of trailing zeros: read up to what was promised
    // (47 MB), and the trailing bytes are counted only so far.
    let mut trailing = gz(&header(2051, 60_000));
    trailing.extend(zeros_gz(2_048 + 45));
    let dir = folder_with("train-images-idx3-ubyte", trailing);
    let (error, peak, took) = load_measured(dir.path());
    let message = error.to_string();
    assert!(message.contains("at least 65536 unexpected bytes"), "{message}");
    assert!(peak < 128 * MB, "{} MB for 47 MB of promised pixels", peak / MB);
    assert!(took < Duration::from_secs(10), "{took:?}");

    // A header promising the most, with almost nothing behind it: nothing allocated up front.
    let dir = folder_with("t10k-images-idx3-ubyte", gz(&header(2051, 60_000)));
    let (error, peak, _) = load_measured(dir.path());
    assert!(matches!(error, Error::Idx { problem: IdxProblem::Truncated { found: 0, .. }, .. }), "{error}");
    assert!(peak < 8 * MB, "{} MB for an empty body", peak / MB);
}
