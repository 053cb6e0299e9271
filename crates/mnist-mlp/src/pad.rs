//! Draw a digit: a canvas in the notebook that runs the model in the page itself.
//!
//! evcxr has no widgets, so nothing goes back to the kernel: the output carries the trained
//! weights and a small script (`pad.js`) that prepares the drawing exactly as
//! `image::prepare` does and runs the forward pass, live, as you draw. The same output
//! works in the exported HTML handout, offline. The weights travel as IEEE half floats (f16),
//! half the bytes of f32; the tests check that this changes no prediction on the test set.

use crate::dense::Dense;
use crate::error::{Error, Result};
use base64::Engine;

/// The script each pad runs on its own element.
const SCRIPT: &str = include_str!("pad.js");
/// The canvas' side in pixels: ten per MNIST pixel, well below the size `prepare` shrinks first.
const CANVAS_SIDE: usize = 280;

/// A drawing pad for one model (`model.drawing_pad()`); shows itself as HTML in a notebook.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawingPad {
    /// `[outputs, inputs]` of each dense layer, input first; ReLU between them, logits last.
    pub layers: Vec<[usize; 2]>,
    /// Each layer's weight (row-major) then bias, as little-endian f16, in base64.
    pub weights_f16: String,
}

impl DrawingPad {
    /// The pad of `Mlp`'s Dense layers, input first. The script runs ReLU after each layer but the
    /// last, as every `Mlp` has them (`MlpConfig::layers`).
    pub(crate) fn new(dense: &[Dense]) -> Result<Self> {
        let mut layers = Vec::new();
        let mut bytes = Vec::new();
        for Dense { weight, bias, .. } in dense {
            layers.push(weight.dims2().map(|(outputs, inputs)| [outputs, inputs])?);
            for tensor in [weight.flatten_all()?, bias.clone()] {
                for value in tensor.to_vec1::<f32>()? {
                    bytes.extend(half::f16::from_f32(value).to_le_bytes());
                }
            }
        }
        Ok(DrawingPad { layers, weights_f16: base64::engine::general_purpose::STANDARD.encode(bytes) })
    }

    /// The weights as the page decodes them: each layer's `(weight [outputs × inputs], bias)` in f32.
    pub fn decoded_weights(&self) -> Result<Vec<(Vec<f32>, Vec<f32>)>> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.weights_f16)
            .map_err(|e| Error::Config(format!("the pad's weights are not base64: {e}")))?;
        let mut values = bytes.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32());
        let decoded: Vec<_> = self
            .layers
            .iter()
            .map(|&[outputs, inputs]| {
                (values.by_ref().take(outputs * inputs).collect::<Vec<_>>(), values.by_ref().take(outputs).collect())
            })
            .collect();
        let expected: usize = self.layers.iter().map(|[o, i]| o * i + o).sum();
        if bytes.len() != 2 * expected {
            return Err(Error::Config(format!(
                "the pad holds {} bytes of weights for {expected} parameters",
                bytes.len()
            )));
        }
        Ok(decoded)
    }

    /// The pad as one self-contained HTML fragment: markup, weights and script, nothing from the web.
    pub fn to_html(&self) -> String {
        let model = serde_json::json!({ "layers": self.layers, "f16": self.weights_f16 });
        let side = CANVAS_SIDE;
        // `style="display:none"`, not `hidden`: JupyterLab's sanitizer drops `hidden` from an
        // untrusted output, which then showed a stray "[]". The middle column's fixed width keeps
        // the bars from jumping sideways when "draw a digit" gives way to a single digit.
        format!(
            r#"<div data-role="pad" style="font-family:system-ui,sans-serif;font-size:14px;color:#222;margin:8px 0">
<div style="display:flex;flex-wrap:wrap;gap:20px;align-items:flex-start">
<div><canvas data-role="canvas" width="{side}" height="{side}" style="width:{side}px;height:{side}px;border:1px solid #999;touch-action:none;cursor:crosshair;background:#fff"></canvas>
<div style="margin-top:6px"><button type="button" data-role="clear">Clear</button> <button type="button" data-role="download">Download PNG</button></div></div>
<div style="min-width:210px"><div>what the model sees</div><canvas data-role="input" width="28" height="28" style="width:112px;height:112px;image-rendering:pixelated;background:#000;margin:4px 0 12px"></canvas>
<div>prediction</div><div data-role="prediction" style="font-size:32px;font-weight:bold;line-height:1.2">no script</div>
<div data-role="confidence" style="color:#555;max-width:150px">the pad needs JavaScript (in JupyterLab: run this cell again, or Command Palette → Trust Notebook)</div></div>
<div><div>probabilities</div><div data-role="bars" style="display:flex;gap:2px;margin-top:4px"></div></div>
</div>
<output data-role="probabilities" style="display:none">[]</output>
<script type="application/json" data-role="model">{model}</script>
<script>{SCRIPT}</script>
</div>"#
        )
    }
}
