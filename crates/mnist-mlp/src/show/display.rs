//! Rich output in Jupyter: a notebook cell that ends in one of these values shows it as a table,
//! a chart or the drawing pad. The evcxr kernel calls a value's `evcxr_display` method, which
//! prints the content between its markers; every such method of the crate is here.

use crate::eval::Evaluation;
use crate::history::History;
use crate::model::{DrawingPad, Summary};
use crate::show::plot::Svg;

/// Shows `html` as HTML in the notebook.
pub fn html(html: &str) {
    show("text/html", html);
}

/// Shows an SVG document as an image in the notebook.
pub fn svg(svg: &str) {
    show("image/svg+xml", svg);
}

fn show(mime: &str, content: &str) {
    println!("EVCXR_BEGIN_CONTENT {mime}\n{content}\nEVCXR_END_CONTENT");
}

impl History {
    /// The table of epochs, and the warning when training learned nothing.
    pub fn evcxr_display(&self) {
        html(&self.to_html());
    }
}

impl Evaluation {
    pub fn evcxr_display(&self) {
        html(&format!(
            "<table><tr><th>loss</th><td>{:.4}</td></tr><tr><th>accuracy</th><td>{:.4}</td></tr>\
             <tr><th>misclassified</th><td>{} of {}</td></tr></table>",
            self.loss,
            self.accuracy,
            self.misclassified().len(),
            self.labels.len()
        ));
    }
}

impl Summary {
    pub fn evcxr_display(&self) {
        html(&self.to_html());
    }
}

impl DrawingPad {
    pub fn evcxr_display(&self) {
        html(&self.to_html());
    }
}

impl Svg {
    pub fn evcxr_display(&self) {
        svg(&self.0);
    }
}
