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

/// The number in the first ` name="…"` attribute of `markup` (for a whole SVG: its own, e.g. its width).
fn attribute(markup: &str, name: &str) -> Option<f32> {
    markup.split(&format!(" {name}=\"")).nth(1)?.split('"').next()?.parse().ok()
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
fn a_confusion_matrix_of_named_classes_names_them_on_both_axes_and_fits_them() {
    let names =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle <boot>"];
    let matrix = ConfusionMatrix::new(&[0, 6, 9], &[6, 6, 9]).unwrap();
    let svg = plot::confusion_named(&matrix, &names).unwrap().0;
    let texts = texts(&svg);
    assert!(texts.contains(&"true class".to_string()) && texts.contains(&"predicted class".to_string()), "{texts:?}");
    assert!(!texts.iter().any(|t| t.contains("digit")), "a chart of clothes speaks of digits: {texts:?}");
    assert_eq!(texts.iter().filter(|t| *t == "Pullover").count(), 2, "a row and a column name each class");
    assert_eq!(texts.iter().filter(|t| *t == "Ankle &lt;boot&gt;").count(), 2, "names are escaped: {texts:?}");
    // The row names end 10 px left of the grid, about 8 px a character: none starts off the page.
    let digits = plot::confusion(&matrix).unwrap().0;
    let (named, digits) = (attribute(&svg, "width").unwrap(), attribute(&digits, "width").unwrap());
    assert!(named >= digits + (8 * "T-shirt/top".len() - 8) as f32, "{named} vs {digits}");
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

/// Where each `<text>` element reading `content` is drawn.
fn text_positions(svg: &str, content: &str) -> Vec<(f32, f32)> {
    let elements = svg.split("<text").skip(1).filter_map(|t| t.split_once("</text>").map(|(e, _)| e));
    let reading = elements.filter(|e| e.split_once('>').is_some_and(|(_, text)| text.trim() == content));
    let at = |element: &str, name: &str| attribute(element, name).unwrap_or_else(|| panic!("no {name} on `{content}`"));
    reading.map(|e| (at(e, "x"), at(e, "y"))).collect()
}

#[test]
fn the_legend_goes_where_the_lines_are_not() {
    let steps = |f: fn(f32) -> f32| (0..50).map(|i| (i as f32, f(i as f32 / 49.0))).collect::<Vec<_>>();
    // 640×360: a falling loss leaves the upper right empty, a rising accuracy the lower right,
    // a line along the top edge the lower right too, and one climbing on the right the left side.
    type Case = (&'static str, fn(f32) -> f32, fn(f32, f32) -> bool);
    let cases: [Case; 4] = [
        ("falling", |t| 2.3 * (-5.0 * t).exp(), |x, y| x > 320.0 && y < 180.0),
        ("rising", |t| 1.0 - 0.9 * (-5.0 * t).exp(), |x, y| x > 320.0 && y > 180.0),
        ("flat top", |t| if t < 0.02 { 0.0 } else { 1.0 }, |x, y| x > 320.0 && y > 180.0),
        ("late climb", |t| if t < 0.5 { 0.0 } else { 2.0 * t - 1.0 }, |x, _| x < 320.0),
    ];
    for (name, curve, where_expected) in cases {
        let svg = plot::lines("a chart", "x", "y", &[Series { name, points: steps(curve) }]).unwrap().0;
        let positions = text_positions(&svg, name);
        assert_eq!(positions.len(), 1, "`{name}`: one legend entry");
        let (x, y) = positions[0];
        assert!(where_expected(x, y), "`{name}`: legend at ({x}, {y})");
    }
}

#[test]
fn a_long_strip_wraps_into_rows_that_fit_a_notebook() {
    let picture = mnist_mlp::image::DynamicImage::new_luma8(100, 112);
    let captions: Vec<String> = (0..12).map(|i| format!("picture-{i}.png")).collect();
    let pictures: Vec<(&str, _)> = captions.iter().map(|c| (c.as_str(), picture.clone())).collect();
    let svg = gallery::strip(&pictures).unwrap().0;
    let size = |name: &str| attribute(&svg, name).unwrap();
    assert!(size("width") <= 1000.0, "width {}", size("width"));
    // Each picture takes 105 px and 14 px of space: 8 fit in a row, so 12 make two rows of 144 px.
    assert_eq!(size("height"), (2 * 144) as f32);
    let texts = texts(&svg);
    assert!(captions.iter().all(|c| texts.contains(c)), "{texts:?}");
    let rows: std::collections::BTreeSet<&str> =
        svg.split("<image").skip(1).filter_map(|i| i.split(" y=\"").nth(1)?.split('"').next()).collect();
    assert!(rows.len() >= 2, "rows at {rows:?}");
}

/// The centres of the `<circle>`s of `svg` filled with `color` (plotters writes it in upper case).
fn circles_of(svg: &str, color: &str) -> Vec<(f32, f32)> {
    svg.split("<circle")
        .skip(1)
        .map(|c| c.split_once("/>").map_or(c, |(element, _)| element))
        .filter(|c| c.contains(&format!("fill=\"{color}\"")))
        .filter_map(|c| Some((attribute(c, "cx")?, attribute(c, "cy")?)))
        .collect()
}

#[test]
fn a_projection_separates_what_differs_most_and_colours_each_class() {
    // Class 0 and class 1 differ along the third of eight dimensions, and both vary a little along
    // the others: the first principal component is the third dimension, so the classes lie on
    // either side of the picture.
    let (rows, dims) = (40, 8);
    let mut values = Vec::with_capacity(rows * dims);
    for row in 0..rows {
        for dim in 0..dims {
            let wobble = ((row * 7 + dim * 3) % 5) as f32 * 0.05;
            values.push(if dim == 2 { if row % 2 == 0 { 5.0 } else { -5.0 } } else { wobble });
        }
    }
    let activations = Tensor::from_vec(values, (rows, dims), &Device::Cpu).unwrap();
    let labels: Vec<u32> = (0..rows as u32).map(|row| row % 2).collect();
    let svg = plot::projection("two classes", &activations, &labels).unwrap().0;
    let (zeros, ones) = (circles_of(&svg, "#1F77B4"), circles_of(&svg, "#FF7F0E"));
    assert_eq!((zeros.len(), ones.len()), (20 + 1, 20 + 1), "each class's points and its legend dot");
    let x_of = |points: &[(f32, f32)]| points[..20].iter().map(|p| p.0).collect::<Vec<_>>();
    let (left, right) = (x_of(&zeros), x_of(&ones));
    let apart = left.iter().all(|a| right.iter().all(|b| a < b)) || left.iter().all(|a| right.iter().all(|b| a > b));
    assert!(apart, "the classes overlap along the first component: {left:?} {right:?}");
    assert!(texts(&svg).iter().any(|t| t == "first principal component"));

    let message = plot::projection("bad", &activations, &labels[..3]).unwrap_err().to_string();
    assert!(message.contains("40 rows") && message.contains("3 labels"), "{message}");
    let message = plot::projection("bad", &activations, &vec![10; rows]).unwrap_err().to_string();
    assert!(message.contains("label 10"), "{message}");
}
