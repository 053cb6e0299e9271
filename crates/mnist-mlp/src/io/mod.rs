//! Reading and writing files safely: bounded reads ([`read`]), whole-folder saves ([`save_dir`]),
//! MNIST's IDX format ([`idx`]) and `SHA256SUMS` ([`checksums`]). Crate-private: the public API
//! (`Mnist::load_dir`, `Mlp::save`, `Mlp::load`, `image::read`) is how the rest of the world uses them.

pub mod checksums;
pub mod idx;
pub mod read;
pub mod save_dir;
