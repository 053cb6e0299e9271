//! Charts for the notebooks, drawn with plotters as SVG: shown inline by the evcxr kernel and
//! embedded as they are in exported HTML.

use crate::data::NUM_CLASSES;
use crate::error::{Error, Result};
use crate::eval::ConfusionMatrix;
use crate::history::History;
use candle_core::{DType, Tensor};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// An SVG document; a notebook cell that ends in one shows the picture.
#[derive(Debug, Clone, PartialEq)]
pub struct Svg(pub String);

impl Svg {
    /// The one SVG writer: a `width`×`height` document on white around `body` (elements, or a
    /// whole SVG drawn by plotters), shrinking to fit a narrow page with its aspect ratio kept.
    pub fn document(width: usize, height: usize, body: &str) -> Self {
        Svg(format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
             viewBox=\"0 0 {width} {height}\" style=\"max-width:100%;height:auto\" font-family=\"{FONT}\">\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>{body}</svg>"
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        std::fs::write(path.as_ref(), &self.0).map_err(|e| Error::io(path.as_ref(), e))
    }
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for Error {
    fn from(error: DrawingAreaErrorKind<E>) -> Self {
        Error::Plot(error.to_string())
    }
}

/// One named line of `(x, y)` points.
pub struct Series<'a> {
    pub name: &'a str,
    pub points: Vec<(f32, f32)>,
}

const PALETTE: [RGBColor; 4] =
    [RGBColor(31, 119, 180), RGBColor(255, 127, 14), RGBColor(44, 160, 44), RGBColor(214, 39, 40)];
const FONT: &str = "sans-serif";
/// One colour per class, easy to tell apart (matplotlib's "tab10").
const CLASS_COLORS: [RGBColor; NUM_CLASSES] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Loss and accuracy per epoch, training and test, side by side.
pub fn history(history: &History) -> Result<Svg> {
    let curve = |f: fn(&crate::history::EpochStats) -> f32| -> Vec<(f32, f32)> {
        history.epochs.iter().map(|e| (e.epoch as f32, f(e))).collect()
    };
    let loss = [
        Series { name: "training loss", points: curve(|e| e.train_loss) },
        Series { name: "test loss", points: curve(|e| e.test_loss) },
    ];
    let accuracy = [
        Series { name: "training accuracy", points: curve(|e| e.train_accuracy) },
        Series { name: "test accuracy", points: curve(|e| e.test_accuracy) },
    ];
    render((900, 340), |root| {
        let panels = root.split_evenly((1, 2));
        draw_lines(&panels[0], "Loss", "epoch", "cross-entropy", &loss, true)?;
        draw_lines(&panels[1], "Accuracy", "epoch", "accuracy", &accuracy, true)
    })
}

/// A line chart of any series, e.g. ReLU or a loss against a logit.
pub fn lines(title: &str, x_desc: &str, y_desc: &str, series: &[Series<'_>]) -> Result<Svg> {
    render((640, 360), |root| draw_lines(root, title, x_desc, y_desc, series, false))
}

/// A bar per category, the `highlight`ed one in another colour (e.g. the predicted digit).
pub fn bars<S: AsRef<str>>(
    title: &str,
    y_desc: &str,
    categories: &[S],
    values: &[f32],
    highlight: Option<usize>,
) -> Result<Svg> {
    if categories.len() != values.len() || values.is_empty() {
        return Err(Error::Plot(format!("{} categories for {} values", categories.len(), values.len())));
    }
    let low = values.iter().copied().fold(0.0f32, f32::min);
    let high = values.iter().copied().fold(0.0f32, f32::max);
    let pad = 0.08 * (high - low).max(1e-6);
    let (low, high) = (if low < 0.0 { low - pad } else { 0.0 }, high + pad);
    render((640, 320), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 20))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d((0..values.len() - 1).into_segmented(), low..high)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc(y_desc)
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .x_labels(values.len())
            .x_label_formatter(&|segment| match segment {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                    categories.get(*i).map(|c| c.as_ref().to_string()).unwrap_or_default()
                }
                SegmentValue::Last => String::new(),
            })
            .draw()?;
        chart.draw_series(values.iter().enumerate().map(|(i, &v)| {
            let color = if Some(i) == highlight { PALETTE[1] } else { PALETTE[0] };
            let mut bar =
                Rectangle::new([(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), v)], color.filled());
            bar.set_margin(0, 0, 6, 6);
            bar
        }))?;
        Ok(())
    })
}

/// Softmax probabilities of one image as bars, the predicted digit highlighted.
pub fn probabilities(probabilities: &[f32]) -> Result<Svg> {
    let digits: Vec<String> = (0..probabilities.len()).map(|d| d.to_string()).collect();
    let predicted = (!probabilities.is_empty()).then(|| crate::scores::argmax(probabilities));
    bars("Probability of each digit", "probability", &digits, probabilities, predicted)
}

/// The confusion matrix as a heat map: true digit down, predicted digit across, counts written in.
/// Off-diagonal cells shade by how large an error they are; the diagonal is green.
pub fn confusion(matrix: &ConfusionMatrix) -> Result<Svg> {
    let digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    heat_map(matrix, "digit", &digits)
}

/// The confusion matrix of ten named classes (e.g. Fashion-MNIST's, in label order): the names
/// along both axes, which then read "true class" and "predicted class".
pub fn confusion_named(matrix: &ConfusionMatrix, class_names: &[&str; NUM_CLASSES]) -> Result<Svg> {
    heat_map(matrix, "class", class_names)
}

fn heat_map(matrix: &ConfusionMatrix, kind: &str, names: &[&str; NUM_CLASSES]) -> Result<Svg> {
    const CELL: usize = 46;
    // Room for the names: about 8 px a character at 14 px; long names go diagonally across the top.
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(1);
    let slanted = longest > 2;
    let left = 48 + 8 * longest;
    let top = if slanted { 40 + 6 * longest } else { 64 };
    let errors = (0..NUM_CLASSES).flat_map(|l| (0..NUM_CLASSES).filter(move |&p| p != l).map(move |p| (l, p)));
    let largest_error = errors.map(|(l, p)| matrix.counts[l][p]).max().unwrap_or(0).max(1);
    let (width, height) =
        (left + NUM_CLASSES * CELL + 16 + if slanted { 6 * longest } else { 0 }, top + NUM_CLASSES * CELL + 16);
    let mut svg = format!(
        "<text x=\"{}\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">predicted {kind}</text>\
         <text x=\"18\" y=\"{}\" font-size=\"15\" text-anchor=\"middle\" transform=\"rotate(-90 18 {})\">true {kind}</text>",
        left + NUM_CLASSES * CELL / 2,
        top + NUM_CLASSES * CELL / 2,
        top + NUM_CLASSES * CELL / 2,
    );
    for (d, name) in names.iter().enumerate() {
        let name = escape(name);
        let centre = d * CELL + CELL / 2;
        let (x, y) = (left + centre, top - 10);
        svg += &if slanted {
            format!("<text x=\"{x}\" y=\"{y}\" font-size=\"14\" transform=\"rotate(-40 {x} {y})\">{name}</text>")
        } else {
            format!("<text x=\"{x}\" y=\"{y}\" font-size=\"14\" text-anchor=\"middle\">{name}</text>")
        };
        svg += &format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"14\" text-anchor=\"end\">{name}</text>",
            left - 10,
            top + centre + 5
        );
    }
    for (l, row) in matrix.counts.iter().enumerate() {
        for (p, &count) in row.iter().enumerate() {
            let fill = if l == p {
                "rgb(200,235,200)".to_string()
            } else {
                let t = (count as f64 / largest_error as f64).sqrt();
                format!("rgb(255,{},{})", (255.0 * (1.0 - 0.75 * t)) as u8, (255.0 * (1.0 - 0.85 * t)) as u8)
            };
            let (x, y) = (left + p * CELL, top + l * CELL);
            svg += &format!(
                "<rect x=\"{x}\" y=\"{y}\" width=\"{CELL}\" height=\"{CELL}\" fill=\"{fill}\" stroke=\"white\"/>\
                 <text x=\"{}\" y=\"{}\" font-size=\"13\" text-anchor=\"middle\">{count}</text>",
                x + CELL / 2,
                y + CELL / 2 + 5
            );
        }
    }
    Ok(Svg::document(width, height, &svg))
}

/// Text for SVG: the three characters that would end or start markup, escaped.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Rows of `activations` `[n, d]` (a layer's outputs for n images, say) seen from the two
/// directions along which they vary most, their first two principal components; each point is
/// coloured by its label `[n]` (0–9). Classes that the layer tells apart form separate clouds.
pub fn projection(title: &str, activations: &Tensor, labels: &[u32]) -> Result<Svg> {
    let points = principal_plane(activations)?;
    if points.len() != labels.len() {
        return Err(Error::Plot(format!("{} rows of activations for {} labels", points.len(), labels.len())));
    }
    if let Some(&bad) = labels.iter().find(|&&label| label as usize >= NUM_CLASSES) {
        return Err(Error::Plot(format!("label {bad} has no colour (labels are 0–{})", NUM_CLASSES - 1)));
    }
    let (x0, x1, y0, y1) = points.iter().fold((f32::MAX, f32::MIN, f32::MAX, f32::MIN), |(a, b, c, d), &(x, y)| {
        (a.min(x), b.max(x), c.min(y), d.max(y))
    });
    if x0 > x1 {
        return Err(Error::Plot(format!("`{title}` has no points to draw")));
    }
    let (x_pad, y_pad) = (0.04 * (x1 - x0).max(1e-3), 0.04 * (y1 - y0).max(1e-3));
    render((560, 460), |root| {
        let (plane, legend) = root.split_horizontally(480);
        let mut chart = ChartBuilder::on(&plane)
            .caption(title, (FONT, 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(x0 - x_pad..x1 + x_pad, y0 - y_pad..y1 + y_pad)?;
        chart
            .configure_mesh()
            .x_desc("first principal component")
            .y_desc("second principal component")
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        for (class, color) in CLASS_COLORS.iter().enumerate() {
            let of_class = points.iter().zip(labels).filter(|&(_, &label)| label as usize == class);
            chart.draw_series(of_class.map(|(&point, _)| Circle::new(point, 2, color.mix(0.6).filled())))?;
        }
        for (class, color) in CLASS_COLORS.iter().enumerate() {
            let y = 60 + 24 * class as i32;
            legend.draw(&Circle::new((14, y), 5, color.filled()))?;
            legend.draw(&Text::new(class.to_string(), (26, y - 7), (FONT, 14)))?;
        }
        Ok(())
    })
}

/// The rows of `x` `[n, d]`, centred, projected onto the two leading eigenvectors of their
/// covariance: power iteration from a fixed start (so the same rows give the same picture), the
/// first direction removed before looking for the second.
fn principal_plane(x: &Tensor) -> Result<Vec<(f32, f32)>> {
    let (n, d) = x.dims2()?;
    let x = x.to_dtype(DType::F32)?;
    let centred = x.broadcast_sub(&x.mean_keepdim(0)?)?;
    let mut covariance = (centred.t()?.matmul(&centred)? / n.max(1) as f64)?; // [d, d]
    let mut directions = Vec::with_capacity(2);
    for _ in 0..2 {
        let mut direction = Tensor::ones((d, 1), DType::F32, x.device())?;
        // 200 rounds settle the leading direction of a 64×64 covariance far below what a picture shows.
        for _ in 0..200 {
            let next = covariance.matmul(&direction)?;
            let norm = next.sqr()?.sum_all()?.sqrt()?.to_scalar::<f32>()?;
            if norm == 0.0 {
                break;
            }
            direction = (next / f64::from(norm))?;
        }
        let variance = direction.t()?.matmul(&covariance.matmul(&direction)?)?; // [1, 1]
        covariance = (covariance - direction.matmul(&direction.t()?)?.broadcast_mul(&variance)?)?;
        directions.push(direction);
    }
    let projected = centred.matmul(&Tensor::cat(&directions, 1)?)?.to_vec2::<f32>()?; // [n, 2]
    Ok(projected.iter().map(|row| (row[0], row[1])).collect())
}

fn render(size: (u32, u32), draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<()>) -> Result<Svg> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(Svg::document(size.0 as usize, size.1 as usize, &svg))
}

/// Where the legend covers the fewest points: the one of six spots along the chart's left and
/// right edges that holds the fewest, the first of them on a tie (a falling loss leaves the upper
/// right free, a rising accuracy the lower right).
fn legend_position(series: &[Series<'_>], (x0, x1): (f32, f32), (y0, y1): (f32, f32)) -> SeriesLabelPosition {
    use SeriesLabelPosition::*;
    let spots = [
        (UpperRight, true, 2),
        (LowerRight, true, 0),
        (MiddleRight, true, 1),
        (UpperLeft, false, 2),
        (LowerLeft, false, 0),
        (MiddleLeft, false, 1),
    ];
    let (width, height) = ((x1 - x0).max(f32::EPSILON), (y1 - y0).max(f32::EPSILON));
    let covered = |&(_, right, third): &(SeriesLabelPosition, bool, usize)| {
        let in_spot = |&&(x, y): &&(f32, f32)| {
            let (across, up) = ((x - x0) / width, (y - y0) / height);
            let side = if right { across >= 0.55 } else { across <= 0.45 };
            side && (up * 3.0).floor().clamp(0.0, 2.0) as usize == third
        };
        series.iter().map(|s| s.points.iter().filter(in_spot).count()).sum::<usize>()
    };
    let best = spots.iter().enumerate().min_by_key(|(order, spot)| (covered(spot), *order));
    best.map_or(UpperRight, |(_, (position, _, _))| position.clone())
}

fn draw_lines(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series<'_>],
    integer_x: bool,
) -> Result<()> {
    let points = series.iter().flat_map(|s| s.points.iter());
    let (x0, x1, y0, y1) = points.fold((f32::MAX, f32::MIN, f32::MAX, f32::MIN), |(a, b, c, d), &(x, y)| {
        (a.min(x), b.max(x), c.min(y), d.max(y))
    });
    if x0 > x1 {
        return Err(Error::Plot(format!("`{title}` has no points to draw")));
    }
    let (x_pad, y_pad) = (0.04 * (x1 - x0).max(1.0), 0.08 * (y1 - y0).max(1e-3));
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(x0 - x_pad..x1 + x_pad, y0 - y_pad..y1 + y_pad)?;
    let x_ticks = if integer_x { (x1 - x0) as usize + 1 } else { 10 };
    chart
        .configure_mesh()
        .x_labels(x_ticks)
        .x_label_formatter(&|x| if integer_x { format!("{x:.0}") } else { format!("{x}") })
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), color.stroke_width(2)))?
            .label(s.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        if s.points.len() <= 30 {
            chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 13))
        .position(legend_position(series, (x0, x1), (y0, y1)))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    Ok(())
}
