//! The sizes every layer agrees on: a 28×28 picture, flattened to 784 values, in one of ten classes.

pub const IMAGE_SIDE: usize = 28;
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
pub const NUM_CLASSES: usize = 10;
