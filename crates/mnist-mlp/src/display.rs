//! Rich output in Jupyter: the evcxr kernel shows what a type prints between these markers.

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
