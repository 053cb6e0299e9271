//! MNIST test digits re-drawn the way people send digits: large, small, off-centre, thick, thin,
//! dark on light, coloured, on transparent or grey paper, 16-bit. The accuracy test of
//! `mnist_mlp::image::prepare` and the sample images of notebook 04 are made with these.

use mnist_mlp::data::{IMAGE_PIXELS, IMAGE_SIDE};
use mnist_mlp::image::{DynamicImage, Grey, ImageBuffer, Luma, Rgb, Rgba, imageops};

/// A way of drawing a digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A big scan: black ink on white paper, 560 px.
    Large,
    /// A tiny icon: 16 px digit on a 24 px white canvas.
    Small,
    /// The digit in a corner of a wide white page.
    OffCentre,
    /// A marker pen: strokes twice as thick.
    Thick,
    /// A fine pen: strokes thinned.
    Thin,
    /// Chalk on a blackboard: white on black, like MNIST itself.
    LightOnDark,
    /// Blue ink on yellow paper.
    Coloured,
    /// Black ink on a transparent background (RGBA).
    Transparent,
    /// A phone photo of paper: grey, unevenly lit, grainy.
    GreyPaper,
    /// A 16-bit grey scan.
    Deep16,
}

impl Style {
    pub const ALL: [Style; 10] = [
        Style::Large,
        Style::Small,
        Style::OffCentre,
        Style::Thick,
        Style::Thin,
        Style::LightOnDark,
        Style::Coloured,
        Style::Transparent,
        Style::GreyPaper,
        Style::Deep16,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Style::Large => "large",
            Style::Small => "small",
            Style::OffCentre => "off-centre",
            Style::Thick => "thick",
            Style::Thin => "thin",
            Style::LightOnDark => "light-on-dark",
            Style::Coloured => "coloured",
            Style::Transparent => "transparent",
            Style::GreyPaper => "grey-paper",
            Style::Deep16 => "16-bit",
        }
    }

    /// Draws an MNIST digit (784 values in [0, 1], 1 = ink) in this style.
    pub fn render(self, pixels: &[f32]) -> DynamicImage {
        assert_eq!(pixels.len(), IMAGE_PIXELS, "a digit is 28×28");
        let digit = Grey::from_raw(IMAGE_SIDE as u32, IMAGE_SIDE as u32, pixels.to_vec()).expect("784 values");
        let ink = |size: u32| imageops::resize(&digit, size, size, imageops::FilterType::Triangle);
        let paper = |ink: &Grey, level: f32| grey8(ink, |v| 1.0 - v * (1.0 - level));
        match self {
            Style::Large => paper(&ink(560), 0.0),
            Style::Small => {
                let mut canvas = Grey::from_pixel(24, 24, Luma([0.0]));
                imageops::replace(&mut canvas, &ink(16), 4, 4);
                paper(&canvas, 0.0)
            }
            Style::OffCentre => {
                let mut canvas = Grey::from_pixel(320, 200, Luma([0.0]));
                imageops::replace(&mut canvas, &ink(90), 16, 12);
                paper(&canvas, 0.0)
            }
            Style::Thick => paper(&morph(&ink(140), 4, f32::max), 0.0),
            Style::Thin => paper(&morph(&ink(140), 2, f32::min), 0.0),
            Style::LightOnDark => grey8(&ink(200), |v| v),
            Style::Coloured => {
                let ink = ink(180);
                let (pen, sheet) = ([30.0, 60.0, 200.0], [250.0, 240.0, 170.0]);
                DynamicImage::ImageRgb8(ImageBuffer::from_fn(180, 180, |x, y| {
                    let v = ink.get_pixel(x, y)[0];
                    Rgb(std::array::from_fn(|c| (v * pen[c] + (1.0 - v) * sheet[c]) as u8))
                }))
            }
            Style::Transparent => {
                let ink = ink(160);
                DynamicImage::ImageRgba8(ImageBuffer::from_fn(160, 160, |x, y| {
                    Rgba([20, 20, 20, (255.0 * ink.get_pixel(x, y)[0]) as u8])
                }))
            }
            Style::GreyPaper => {
                let ink = ink(240);
                let mut noise = 0x2545_f491_u32;
                grey8(&ink, |v| {
                    noise ^= noise << 13;
                    noise ^= noise >> 17;
                    noise ^= noise << 5;
                    let grain = (noise % 1000) as f32 / 1000.0 * 0.08 - 0.04;
                    0.72 - 0.55 * v + grain
                })
                .blur(0.6)
            }
            Style::Deep16 => {
                let ink = ink(120);
                DynamicImage::ImageLuma16(ImageBuffer::from_fn(120, 120, |x, y| {
                    Luma([(65535.0 * (1.0 - ink.get_pixel(x, y)[0])) as u16])
                }))
            }
        }
    }
}

/// An 8-bit grey image of `tone(v)` for each value `v` of `ink`.
fn grey8(ink: &Grey, mut tone: impl FnMut(f32) -> f32) -> DynamicImage {
    let pixels = ink.as_raw().iter().map(|&v| (255.0 * tone(v).clamp(0.0, 1.0)).round() as u8).collect();
    DynamicImage::ImageLuma8(ImageBuffer::from_raw(ink.width(), ink.height(), pixels).expect("same size"))
}

/// Grey-scale dilation (`f32::max`) or erosion (`f32::min`) over a square of `radius`.
fn morph(image: &Grey, radius: i64, pick: fn(f32, f32) -> f32) -> Grey {
    let (w, h) = (image.width() as i64, image.height() as i64);
    Grey::from_fn(image.width(), image.height(), |x, y| {
        let mut value = image.get_pixel(x, y)[0];
        for dy in -radius..=radius {
            for dx in -radius..=radius {
                let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                if (0..w).contains(&nx) && (0..h).contains(&ny) {
                    value = pick(value, image.get_pixel(nx as u32, ny as u32)[0]);
                }
            }
        }
        Luma([value])
    })
}
