//! What the notebooks show: charts ([`plot`]), grids of digits ([`gallery`]), and how the crate's
//! values appear as rich output in Jupyter ([`display`]). The top layer: it uses everything, and
//! nothing uses it.

pub mod display;
pub mod gallery;
pub mod plot;
