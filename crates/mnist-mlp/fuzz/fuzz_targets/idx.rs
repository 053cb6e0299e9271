//! The IDX reader, gzip'd or raw, as images and as labels: any bytes give a value or an error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mnist_mlp::testing::{IdxKind, decode_idx};

fuzz_target!(|bytes: &[u8]| {
    for kind in [IdxKind::Images, IdxKind::Labels] {
        let _ = decode_idx(bytes, kind);
    }
});
