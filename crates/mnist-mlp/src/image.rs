//! Your own digits: any photo or drawing prepared the way MNIST's digits were made.
//!
//! MNIST's authors took each digit, removed the background, scaled it so its longest side is
//! 20 pixels (keeping the aspect ratio, with anti-aliasing), and placed it in a 28×28 field so
//! that its centre of mass sits at the centre, light ink on a dark background. A model trained
//! on MNIST expects exactly that, so [`prepare`] does the same to any image, and keeps every
//! stage so a notebook can show them.
//!
//! This module also re-exports the `image` crate, so `mnist_mlp::image::DynamicImage` and the
//! rest are at hand without a second dependency. Its own readers are [`read`] and [`read_bytes`]
//! (size limits, errors that name the file); the crate's `open` and `load_from_memory` keep
//! their names and meaning.

pub use ::image::*;

use crate::classifier::Classifier;
use crate::error::{Error, Result};
use crate::io::read as limited;
use crate::scores;
use crate::sizes::{IMAGE_PIXELS, IMAGE_SIDE};
use candle_core::{Device, Tensor};
use std::path::Path;

/// Larger images are refused rather than decoded: 100 megapixels is a lot of photo.
pub const MAX_SIDE: u32 = 10_000;
/// The most memory one decode may take.
pub const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;
/// Larger pictures are shrunk to this many pixels a side before preparing.
const WORK_SIDE: u32 = 1024;
/// The side of the digit's bounding box in the 28×28 field, as in MNIST.
const BOX: u32 = 20;

/// A grey picture with values in [0, 1], at any size.
pub type Grey = ImageBuffer<Luma<f32>, Vec<f32>>;

/// Every stage of the preparation, for display; `digit` is what the model reads.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Transparency composited away and colour turned to grey (1 = white).
    pub grey: Grey,
    /// Light ink on black, with the paper's level removed.
    pub ink: Grey,
    /// Cut to the ink's bounding box.
    pub cropped: Grey,
    /// Longest side scaled to 20 pixels.
    pub scaled: Grey,
    /// The 28×28 field with the centre of mass at the centre: MNIST's format.
    pub digit: Grey,
}

impl Prepared {
    /// The digit as the model's input, `[1, 784]` in [0, 1].
    pub fn tensor(&self) -> Result<Tensor> {
        Ok(Tensor::from_vec(self.digit.as_raw().clone(), (1, IMAGE_PIXELS), &Device::Cpu)?)
    }

    /// The stages side by side, each with its name.
    pub fn stages(&self) -> Vec<(&'static str, &Grey)> {
        vec![
            ("grey", &self.grey),
            ("ink", &self.ink),
            ("cropped", &self.cropped),
            ("20 px", &self.scaled),
            ("28×28, centred", &self.digit),
        ]
    }
}

/// What the model makes of one image file.
#[derive(Debug, Clone)]
pub struct FilePrediction {
    pub file: std::path::PathBuf,
    pub digit: u32,
    /// Softmax over the 10 digits.
    pub probabilities: Vec<f32>,
    pub prepared: Prepared,
}

impl FilePrediction {
    /// The `n` most likely digits with their probabilities, most likely first.
    pub fn top(&self, n: usize) -> Vec<(usize, f32)> {
        scores::top(&self.probabilities, n)
    }
}

/// Opens, prepares and classifies one image file, with an `Mlp` or any other [`Classifier`].
pub fn predict_file(model: &(impl Classifier + ?Sized), path: impl AsRef<Path>) -> Result<FilePrediction> {
    let path = path.as_ref();
    let prepared = prepare_file(path)?;
    let logits = model.infer(&prepared.tensor()?)?;
    let probabilities = candle_nn::ops::softmax_last_dim(&logits)?.squeeze(0)?.to_vec1::<f32>()?;
    check_finite(&probabilities).map_err(|problem| Error::file(path, problem))?;
    let digit = scores::argmax(&probabilities) as u32;
    Ok(FilePrediction { file: path.to_path_buf(), digit, probabilities, prepared })
}

/// Refuses a model's output that holds NaN or infinity: no digit can be read from it.
pub fn check_finite(outputs: &[f32]) -> std::result::Result<(), String> {
    match outputs.iter().find(|v| !v.is_finite()) {
        None => Ok(()),
        Some(bad) => Err(format!(
            "the model's output is {bad}, not a probability: its weights are so large that the \
             computation overflows (a damaged or diverged model); no digit is predicted"
        )),
    }
}

/// Reads an image file of any common format (PNG, JPEG, BMP, GIF, WebP, TIFF), within size
/// limits (256 MB); a FIFO or device is refused unread.
pub fn read(path: impl AsRef<Path>) -> Result<DynamicImage> {
    let path = path.as_ref();
    let bytes = limited::read_limited(path, limited::IMAGE)?;
    read_bytes(&bytes).map_err(|e| match e {
        Error::Image(problem) => Error::file(path, problem),
        other => other,
    })
}

/// Decodes an image from its bytes; the format comes from the bytes, not from a file name.
pub fn read_bytes(bytes: &[u8]) -> Result<DynamicImage> {
    if bytes.is_empty() {
        return Err(Error::Image("the file is empty".into()));
    }
    let format = guess_format(bytes)
        .map_err(|_| Error::Image("not an image this program reads (PNG, JPEG, BMP, GIF, WebP or TIFF)".into()))?;
    if format == ImageFormat::Jpeg {
        return decode_jpeg(bytes);
    }
    let mut reader = ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(image_error)?;
    let ((width, height), needed) = (decoder.dimensions(), decoder.total_bytes());
    if needed > MAX_DECODE_BYTES {
        return Err(Error::Image(format!(
            "too large: {width}×{height} pixels of {:?} take {} MB to decode, more than the {} MB allowed",
            decoder.color_type(),
            needed.div_ceil(1 << 20),
            MAX_DECODE_BYTES >> 20
        )));
    }
    DynamicImage::from_decoder(decoder).map_err(image_error)
}

/// Says which limit refused an image.
fn image_error(error: ImageError) -> Error {
    match error {
        ImageError::Limits(limit) if limit.kind() == ::image::error::LimitErrorKind::DimensionError => {
            Error::Image(format!("too large: images up to {MAX_SIDE}×{MAX_SIDE} pixels are read"))
        }
        ImageError::Limits(_) => Error::Image(format!(
            "too large: decoding it would take more than the {} MB allowed",
            MAX_DECODE_BYTES >> 20
        )),
        other => Error::Image(format!("cannot be decoded: {other}")),
    }
}

/// JPEG through `zune-jpeg` in strict mode: `image` runs it lenient, which fills a truncated or
/// corrupt file's missing part with grey and reports no error.
fn decode_jpeg(bytes: &[u8]) -> Result<DynamicImage> {
    use zune_core::{bytestream::ZCursor, colorspace::ColorSpace, options::DecoderOptions};
    use zune_jpeg::errors::DecodeErrors;
    let jpeg_error = |error: DecodeErrors| match error {
        DecodeErrors::LargeDimensions(_) => {
            Error::Image(format!("too large: images up to {MAX_SIDE}×{MAX_SIDE} pixels are read"))
        }
        other => Error::Image(format!("cannot be decoded: JPEG: {other:?}")),
    };
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(MAX_SIDE as usize)
        .set_max_height(MAX_SIDE as usize);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(jpeg_error)?;
    let grey = matches!(decoder.input_colorspace(), Some(ColorSpace::Luma | ColorSpace::LumaA));
    decoder.set_options(decoder.options().jpeg_set_out_colorspace(if grey {
        ColorSpace::Luma
    } else {
        ColorSpace::RGB
    }));
    let pixels = decoder.decode().map_err(jpeg_error)?;
    let (width, height) = decoder.dimensions().map_or((0, 0), |(w, h)| (w as u32, h as u32));
    let image = if grey {
        GrayImage::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8)
    } else {
        RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8)
    };
    image.ok_or_else(|| Error::Image(format!("cannot be decoded: JPEG: fewer pixels than {width}×{height}")))
}

/// Opens and prepares an image file; errors name the file.
pub fn prepare_file(path: impl AsRef<Path>) -> Result<Prepared> {
    let path = path.as_ref();
    prepare(&read(path)?).map_err(|e| match e {
        Error::Image(problem) => Error::file(path, problem),
        other => other,
    })
}

/// Prepares a decoded image the way MNIST was made (see the module's documentation).
pub fn prepare(image: &DynamicImage) -> Result<Prepared> {
    if image.width() == 0 || image.height() == 0 {
        return Err(Error::Image(format!("no pixels: the picture is {}×{}", image.width(), image.height())));
    }
    // A 20-pixel digit needs no 48-megapixel photo: work on at most WORK_SIDE pixels a side.
    let image = if image.width().max(image.height()) > WORK_SIDE {
        &image.resize(WORK_SIDE, WORK_SIDE, imageops::FilterType::Triangle)
    } else {
        image
    };
    let grey = to_grey(image);
    let ink = extract_ink(&grey)?;
    let cropped = crop_to_ink(&ink)?;
    let scaled = scale_to_box(&cropped);
    let digit = centre_of_mass_field(&scaled);
    Ok(Prepared { grey, ink, cropped, scaled, digit })
}

/// Grey in [0, 1] (Rec. 601 luma). Transparent parts are composited over a background that
/// contrasts with the ink: black under light ink, white under dark ink.
fn to_grey(image: &DynamicImage) -> Grey {
    let rgba = image.to_rgba32f();
    let luma = |p: &Rgba<f32>| 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
    let (weight, sum) =
        rgba.pixels().fold((0.0f64, 0.0f64), |(w, s), p| (w + f64::from(p[3]), s + f64::from(p[3] * luma(p))));
    // Only an image with real transparency decides; the average colour of what is opaque is the ink's.
    let partly_transparent = weight < 0.98 * f64::from(rgba.width() * rgba.height());
    let background = if partly_transparent && sum / weight.max(1e-9) > 0.5 { 0.0 } else { 1.0 };
    Grey::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y);
        let a = p[3].clamp(0.0, 1.0);
        Luma([(a * luma(p) + (1.0 - a) * background).clamp(0.0, 1.0)])
    })
}

/// Light ink on black: inverts dark-on-light pictures (the paper is whatever most pixels are),
/// subtracts the paper's level, and stretches the ink to reach 1.
fn extract_ink(grey: &Grey) -> Result<Grey> {
    let mut values: Vec<f32> = grey.as_raw().clone();
    values.sort_by(f32::total_cmp);
    let paper = values[values.len() / 2];
    let dark_on_light = paper > 0.5;
    let ink_of = |v: f32| if dark_on_light { 1.0 - v } else { v };
    let paper_ink = ink_of(paper);
    let strongest = grey.as_raw().iter().map(|&v| ink_of(v)).fold(0.0f32, f32::max);
    let contrast = strongest - paper_ink;
    if contrast < 0.15 {
        return Err(Error::Image("no ink found: the picture is one flat tone".into()));
    }
    // Anything within a fifth of the contrast above the paper is paper (shadows, grain, texture).
    let floor = paper_ink + 0.2 * contrast;
    Ok(Grey::from_fn(grey.width(), grey.height(), |x, y| {
        Luma([((ink_of(grey.get_pixel(x, y)[0]) - floor) / (strongest - floor)).clamp(0.0, 1.0)])
    }))
}

fn crop_to_ink(ink: &Grey) -> Result<Grey> {
    let inked = ink.enumerate_pixels().filter(|(_, _, p)| p[0] > 0.05);
    let (x0, y0, x1, y1) =
        inked.fold((u32::MAX, u32::MAX, 0, 0), |(a, b, c, d), (x, y, _)| (a.min(x), b.min(y), c.max(x), d.max(y)));
    if x0 > x1 {
        return Err(Error::Image("no ink found".into()));
    }
    Ok(imageops::crop_imm(ink, x0, y0, x1 - x0 + 1, y1 - y0 + 1).to_image())
}

/// Longest side to 20 pixels, aspect ratio kept; the filter averages over the pixels it
/// shrinks away (anti-aliasing). Faint thin strokes are brightened back to full ink.
fn scale_to_box(cropped: &Grey) -> Grey {
    let (w, h) = cropped.dimensions();
    let scale = BOX as f32 / w.max(h) as f32;
    let (nw, nh) = (((w as f32 * scale).round() as u32).max(1), ((h as f32 * scale).round() as u32).max(1));
    let mut scaled = imageops::resize(cropped, nw, nh, imageops::FilterType::Lanczos3);
    let strongest = scaled.pixels().map(|p| p[0]).fold(0.0f32, f32::max).max(1e-6);
    for p in scaled.pixels_mut() {
        p[0] = (p[0] / strongest).clamp(0.0, 1.0);
    }
    scaled
}

/// Pastes the scaled digit into a black 28×28 field so its centre of mass lands on the centre.
fn centre_of_mass_field(scaled: &Grey) -> Grey {
    let (mass, mx, my) = scaled.enumerate_pixels().fold((0.0f32, 0.0f32, 0.0f32), |(m, sx, sy), (x, y, p)| {
        (m + p[0], sx + p[0] * (x as f32 + 0.5), sy + p[0] * (y as f32 + 0.5))
    });
    let centre = IMAGE_SIDE as f32 / 2.0;
    let (w, h) = scaled.dimensions();
    // Shift so the centre of mass is at the centre, but keep the whole digit inside the field.
    let limit = |c: f32, size: u32| (centre - c).round().clamp(0.0, (IMAGE_SIDE as u32 - size) as f32) as i64;
    let (left, top) = (limit(mx / mass, w), limit(my / mass, h));
    let mut field = Grey::new(IMAGE_SIDE as u32, IMAGE_SIDE as u32);
    imageops::replace(&mut field, scaled, left, top);
    field
}
