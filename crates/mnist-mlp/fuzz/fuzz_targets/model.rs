//! Model loading: `config.json`, a NUL byte, then `model.safetensors` (JSON holds no raw NUL).
#![no_main]
use libfuzzer_sys::fuzz_target;
use mnist_mlp::candle_core::Device;
use mnist_mlp::testing::from_bytes;
use std::path::Path;

fuzz_target!(|bytes: &[u8]| {
    let split = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let (config, weights) = (&bytes[..split], bytes.get(split + 1..).unwrap_or_default());
    let _ = from_bytes(config, Path::new("config.json"), weights, Path::new("model.safetensors"), &Device::Cpu);
});
