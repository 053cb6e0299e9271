//! The CPU fast paths: gemm with a parallelism chosen per product ([`matmul`]) on the crate's own
//! threads ([`threads`]), and a layer's bias and ReLU in place ([`fused`]). Crate-private: the
//! public API is `Mlp::infer` and the hand-written backward, which compute the numbers Candle's
//! ops do, bit for bit.

pub mod fused;
pub mod matmul;
pub mod threads;
