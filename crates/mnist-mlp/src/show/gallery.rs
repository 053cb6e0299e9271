//! Grids of 28×28 pictures with captions: sample digits, misclassified digits, learned weights.
//!
//! Each picture is a small PNG inside the SVG, drawn with crisp pixels, so a grid of dozens of
//! digits stays a few kilobytes and the exported HTML needs no other file.

use crate::data::{IMAGE_PIXELS, IMAGE_SIDE};
use crate::error::{Error, Result};
use crate::eval::Evaluation;
use crate::image::{
    DynamicImage, ExtendedColorType, FilePrediction, Grey, ImageBuffer, ImageFormat, Prepared, imageops::FilterType,
};
use crate::model::Mlp;
use crate::show::plot::{Svg, escape};
use base64::Engine;
use candle_core::Tensor;
use std::fmt::Write;

/// One picture of the grid: 28×28 RGB pixels and the caption under it.
#[derive(Debug, Clone)]
pub struct Tile {
    pub rgb: Vec<u8>,
    pub caption: String,
    /// CSS colour of the caption, e.g. red for a wrong prediction.
    pub caption_color: &'static str,
}

impl Tile {
    /// A digit with values in [0, 1] (1 = ink), drawn dark on light like a pen on paper.
    pub fn digit(pixels: &[f32], caption: impl Into<String>) -> Self {
        let rgb = pixels.iter().flat_map(|&p| [(255.0 * (1.0 - p.clamp(0.0, 1.0))).round() as u8; 3]).collect();
        Tile { rgb, caption: caption.into(), caption_color: "black" }
    }

    /// Weights drawn red where positive and blue where negative, scaled to the largest magnitude.
    pub fn weights(weights: &[f32], caption: impl Into<String>) -> Self {
        let scale = weights.iter().fold(1e-12f32, |m, w| m.max(w.abs()));
        let rgb = weights
            .iter()
            .flat_map(|&w| {
                let t = w / scale;
                let fade = |t: f32| (255.0 * (1.0 - t.abs())).round() as u8;
                if t >= 0.0 { [255, fade(t), fade(t)] } else { [fade(t), fade(t), 255] }
            })
            .collect();
        Tile { rgb, caption: caption.into(), caption_color: "black" }
    }
}

/// Digits `[n, 784]` in a grid, each captioned (e.g. with its label).
pub fn digits(images: &Tensor, captions: &[String], columns: usize) -> Result<Svg> {
    let rows = images.flatten_from(1)?.to_vec2::<f32>()?;
    if rows.first().is_some_and(|r| r.len() != IMAGE_PIXELS) || rows.len() != captions.len() {
        return Err(Error::Shape(format!(
            "digits: images are {:?} with {} captions, expected [n, 784] with n captions",
            images.dims(),
            captions.len()
        )));
    }
    let tiles: Vec<Tile> = rows.iter().zip(captions).map(|(pixels, caption)| Tile::digit(pixels, caption)).collect();
    grid(&tiles, columns)
}

/// Digits `[n, 784]` captioned with their labels `[n]`.
pub fn labelled(images: &Tensor, labels: &Tensor, columns: usize) -> Result<Svg> {
    let captions: Vec<String> = labels.to_vec1::<u32>()?.iter().map(|l| l.to_string()).collect();
    digits(images, &captions, columns)
}

/// The first `count` misclassified images of an evaluation: true label → prediction, and the
/// probability the model gave its (wrong) answer, in red.
pub fn mistakes(model: &Mlp, images: &Tensor, evaluation: &Evaluation, count: usize) -> Result<Svg> {
    let wrong: Vec<usize> = evaluation.misclassified().into_iter().take(count).collect();
    let indices = Tensor::from_vec(wrong.iter().map(|&i| i as u32).collect::<Vec<_>>(), wrong.len(), images.device())?;
    let picked = images.index_select(&indices, 0)?; // [count, 784]
    let probabilities = model.probabilities(&picked)?.to_vec2::<f32>()?;
    let tiles = wrong
        .iter()
        .zip(picked.to_vec2::<f32>()?)
        .zip(probabilities)
        .map(|((&i, pixels), p)| {
            let (label, predicted) = (evaluation.labels[i], evaluation.predictions[i]);
            let caption = format!("{label}→{predicted} ({:.2})", p[predicted as usize]);
            Tile { caption_color: "#c00", ..Tile::digit(&pixels, caption) }
        })
        .collect::<Vec<_>>();
    grid(&tiles, 9)
}

/// The first layer's weights: for each of the first `count` units, its 784 input weights as a
/// 28×28 picture of the pattern it responds to (red: ink there raises it, blue: lowers it).
pub fn first_layer(model: &Mlp, count: usize) -> Result<Svg> {
    let weights = model.layers()[0].weight.to_vec2::<f32>()?; // [units, 784]
    let tiles: Vec<Tile> =
        weights.iter().take(count).enumerate().map(|(unit, w)| Tile::weights(w, format!("unit {unit}"))).collect();
    grid(&tiles, 8)
}

/// The pictures in rows of `columns`, 3× enlarged, each caption under its picture.
pub fn grid(tiles: &[Tile], columns: usize) -> Result<Svg> {
    const SCALE: usize = 3;
    const CELL: usize = IMAGE_SIDE * SCALE + 12;
    const CAPTION: usize = 18;
    if let Some(bad) = tiles.iter().find(|t| t.rgb.len() != IMAGE_PIXELS * 3) {
        return Err(Error::Shape(format!("tile `{}` has {} bytes, expected 28×28×3", bad.caption, bad.rgb.len())));
    }
    let columns = columns.clamp(1, tiles.len().max(1));
    let (width, height) = (columns * CELL, tiles.len().div_ceil(columns) * (CELL + CAPTION));
    let mut svg = String::new();
    for (i, tile) in tiles.iter().enumerate() {
        let (x, y) = ((i % columns) * CELL + 6, (i / columns) * (CELL + CAPTION) + 6);
        let side = IMAGE_SIDE * SCALE;
        let _ = write!(
            svg,
            "<image x=\"{x}\" y=\"{y}\" width=\"{side}\" height=\"{side}\" style=\"image-rendering:pixelated\" \
             href=\"data:image/png;base64,{}\"/><rect x=\"{x}\" y=\"{y}\" width=\"{side}\" height=\"{side}\" \
             fill=\"none\" stroke=\"#ccc\"/><text x=\"{}\" y=\"{}\" font-size=\"13\" \
             text-anchor=\"middle\" fill=\"{}\">{}</text>",
            png_base64(&tile.rgb)?,
            x + side / 2,
            y + side + 16,
            tile.caption_color,
            escape(&tile.caption)
        );
    }
    Ok(Svg::document(width, height, &svg))
}

/// Pictures of any size side by side, each shown 112 px high with its caption, in rows no wider
/// than a notebook's output (so nothing scrolls sideways): e.g. the stages of preparing your own
/// digit.
pub fn strip(pictures: &[(&str, DynamicImage)]) -> Result<Svg> {
    const HEIGHT: u32 = 112;
    const ROW: u32 = HEIGHT + 32;
    const MAX_WIDTH: u32 = 1000;
    let (mut x, mut y, mut width_used) = (6, 0, 0);
    let mut body = String::new();
    for (caption, picture) in pictures {
        // Large photos are shrunk before embedding; small pictures are enlarged by the browser.
        let picture = if picture.height() > 2 * HEIGHT {
            picture.resize(4 * HEIGHT, 2 * HEIGHT, FilterType::Triangle)
        } else {
            picture.clone()
        };
        let width = (HEIGHT * picture.width()).div_ceil(picture.height().max(1)).clamp(24, 3 * HEIGHT);
        let rgba = picture.to_rgba8();
        let png = encode_png(rgba.as_raw(), rgba.width(), rgba.height(), ExtendedColorType::Rgba8)?;
        // Room for the caption too (about 7 px a character at 13 px).
        let slot = width.max(7 * caption.chars().count() as u32);
        if x > 6 && x + slot > MAX_WIDTH {
            (x, y) = (6, y + ROW);
        }
        let (left, top) = (x + (slot - width) / 2, y + 6);
        let _ = write!(
            body,
            "<image x=\"{left}\" y=\"{top}\" width=\"{width}\" height=\"{HEIGHT}\" preserveAspectRatio=\"none\" \
             style=\"image-rendering:pixelated\" href=\"data:image/png;base64,{png}\"/><rect x=\"{left}\" y=\"{top}\" \
             width=\"{width}\" height=\"{HEIGHT}\" fill=\"none\" stroke=\"#ccc\"/><text x=\"{}\" y=\"{}\" \
             font-size=\"13\" text-anchor=\"middle\">{}</text>",
            left + width / 2,
            y + HEIGHT + 24,
            escape(caption)
        );
        x += slot + 14;
        width_used = width_used.max(x);
    }
    Ok(Svg::document(width_used.max(6) as usize, (y + ROW) as usize, &body))
}

/// Each prepared digit as the model saw it, captioned with the prediction and its probability.
pub fn predictions(predictions: &[FilePrediction]) -> Result<Svg> {
    let tiles: Vec<Tile> = predictions
        .iter()
        .map(|p| {
            Tile::digit(p.prepared.digit.as_raw(), format!("{} ({:.2})", p.digit, p.probabilities[p.digit as usize]))
        })
        .collect();
    grid(&tiles, 9)
}

/// Image files side by side, captioned with their names.
pub fn files<P: AsRef<std::path::Path>>(paths: &[P]) -> Result<Svg> {
    let pictures = paths.iter().map(crate::image::read).collect::<Result<Vec<_>>>()?;
    let names: Vec<String> =
        paths.iter().map(|p| p.as_ref().file_name().unwrap_or_default().to_string_lossy().into_owned()).collect();
    strip(&names.iter().map(String::as_str).zip(pictures).collect::<Vec<_>>())
}

/// A picture as you gave it, then every stage of its preparation.
pub fn preparation(original: &DynamicImage, prepared: &Prepared) -> Result<Svg> {
    let mut pictures = vec![("your picture", original.clone())];
    pictures.extend(prepared.stages().into_iter().map(|(name, stage)| (name, grey_picture(stage))));
    strip(&pictures)
}

fn grey_picture(grey: &Grey) -> DynamicImage {
    let bytes = grey.as_raw().iter().map(|v| (255.0 * v.clamp(0.0, 1.0)).round() as u8).collect();
    DynamicImage::ImageLuma8(ImageBuffer::from_raw(grey.width(), grey.height(), bytes).expect("same size"))
}

fn png_base64(rgb: &[u8]) -> Result<String> {
    let side = IMAGE_SIDE as u32;
    encode_png(rgb, side, side, ExtendedColorType::Rgb8)
}

fn encode_png(pixels: &[u8], width: u32, height: u32, color: ExtendedColorType) -> Result<String> {
    let mut png = Vec::new();
    ::image::write_buffer_with_format(
        &mut std::io::Cursor::new(&mut png),
        pixels,
        width,
        height,
        color,
        ImageFormat::Png,
    )
    .map_err(|e| Error::Plot(format!("encoding a picture as PNG: {e}")))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(png))
}
