//! Image input: decoding any bytes within the limits, then the MNIST-style preparation.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mnist_mlp::image::{prepare, read_bytes};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(image) = read_bytes(bytes) {
        let _ = prepare(&image);
    }
});
