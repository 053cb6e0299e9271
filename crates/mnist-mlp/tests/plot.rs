//! Charts and picture grids: the right elements are in the SVG, and bad input is an error.

use mnist_mlp::prelude::*;
use mnist_mlp::{eval::ConfusionMatrix, gallery::Tile};

fn history() -> History {
    let epoch = |epoch: usize, loss: f32, accuracy: f32| EpochStats {
        epoch,
        train_loss: loss,
        train_accuracy: accuracy,
        test_loss: loss + 0.02,
        test_accuracy: accuracy - 0.01,
        seconds: 0.6,
    };
    History { epochs: vec![epoch(1, 0.25, 0.93), epoch(2, 0.10, 0.97), epoch(3, 0.07, 0.98)], ..Default::default() }
}

/// The text of every `<text>` element (plotters puts it on its own line).
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim().to_string()))
        .collect()
}

#[test]
fn the_history_chart_has_loss_and_accuracy_with_both_curves() {
    let svg = plot::history(&history()).unwrap().0;
    let texts = texts(&svg);
    for name in ["Loss", "Accuracy", "training loss", "test loss", "training accuracy", "test accuracy"] {
        assert!(texts.iter().any(|t| t == name), "no `{name}` in {texts:?}");
    }
    for epoch in ["1", "2", "3"] {
        assert!(texts.iter().any(|t| t == epoch), "whole epochs on the x axis: {texts:?}");
    }
    let curve = |color: &str| svg.matches(&format!("<polyline fill=\"none\" opacity=\"1\" stroke=\"{color}\"")).count();
    assert_eq!((curve("#1F77B4"), curve("#FF7F0E")), (4, 4), "per colour: two curves and two legend marks");
}

#[test]
fn bars_name_every_category_and_reject_mismatched_input() {
    let svg = plot::probabilities(&[0.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.9, 0.0, 0.0]).unwrap().0;
    let texts = texts(&svg);
    assert!((0..10).all(|d| texts.contains(&d.to_string())), "{texts:?}");
    assert!(svg.contains("rgb(255,127,14)") || svg.contains("#FF7F0E"), "the predicted digit is highlighted");
    assert!(plot::bars("t", "y", &["a", "b"], &[1.0], None).is_err());
}

#[test]
fn an_empty_line_chart_is_an_error() {
    let error = plot::lines("nothing", "x", "y", &[Series { name: "s", points: vec![] }]).unwrap_err();
    assert!(error.to_string().contains("no points"), "{error}");
}

#[test]
fn the_confusion_matrix_writes_every_count() {
    let labels = [0u32, 0, 1, 4, 4, 9];
    let predictions = [0u32, 6, 1, 9, 4, 9];
    let matrix = ConfusionMatrix::new(&labels, &predictions).unwrap();
    assert_eq!((matrix.counts[0][6], matrix.counts[4][9], matrix.counts[4][4]), (1, 1, 1));
    let svg = plot::confusion(&matrix).unwrap().0;
    let texts = texts(&svg);
    assert_eq!(texts.len(), 2 + 20 + 100, "two axis titles, 20 digit labels, a count in every cell");
    assert_eq!(
        texts.iter().filter(|t| *t == "1").count(),
        6 + 2,
        "six cells count 1, and the digit 1 labels a row and a column"
    );
}

#[test]
fn a_digit_grid_embeds_one_png_per_digit_with_its_caption() {
    let images = Tensor::ones((5, 784), DType::F32, &Device::Cpu).unwrap();
    let labels = Tensor::new(&[3u32, 1, 4, 1, 5], &Device::Cpu).unwrap();
    let svg = gallery::labelled(&images, &labels, 3).unwrap().0;
    assert_eq!(svg.matches("href=\"data:image/png;base64,").count(), 5);
    assert!(svg.contains(">4</text>") && svg.contains("width=\"288\""), "3 columns of 96 px");
}

#[test]
fn a_grid_rejects_tiles_of_the_wrong_size() {
    let tile = Tile { rgb: vec![0; 10], caption: "bad".into(), caption_color: "black" };
    assert!(gallery::grid(&[tile], 4).unwrap_err().to_string().contains("`bad`"));
    let images = Tensor::ones((2, 100), DType::F32, &Device::Cpu).unwrap();
    assert!(gallery::digits(&images, &["a".into(), "b".into()], 2).is_err());
}

#[test]
fn weights_are_red_where_positive_and_blue_where_negative() {
    let mut weights = vec![0.0f32; 784];
    (weights[0], weights[1]) = (2.0, -1.0);
    let tile = Tile::weights(&weights, "unit");
    assert_eq!(&tile.rgb[0..3], &[255, 0, 0]);
    assert_eq!(&tile.rgb[3..6], &[128, 128, 255]);
    assert_eq!(&tile.rgb[6..9], &[255, 255, 255], "zero is white");
}
