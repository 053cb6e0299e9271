//! What `model.summary()` shows in Keras: one row per layer with its output shape and parameter
//! count, as text (`Display`) or an HTML table in a notebook.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub layer: String,
    pub output_shape: String,
    pub parameters: usize,
}

/// The table, row by row: the input first, then each layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub rows: Vec<SummaryRow>,
}

impl Summary {
    pub fn total_parameters(&self) -> usize {
        self.rows.iter().map(|r| r.parameters).sum()
    }

    pub fn to_html(&self) -> String {
        let body: String = self
            .rows
            .iter()
            .map(|r| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td style=\"text-align:right\">{}</td></tr>",
                    r.layer,
                    r.output_shape,
                    thousands(r.parameters)
                )
            })
            .collect();
        format!(
            "<table><thead><tr><th>Layer (type)</th><th>Output shape</th><th>Param #</th></tr></thead>\
             <tbody>{body}</tbody><tfoot><tr><th colspan=\"2\">Total parameters (all trainable)</th>\
             <th style=\"text-align:right\">{}</th></tr></tfoot></table>",
            thousands(self.total_parameters())
        )
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = "─".repeat(64);
        writeln!(f, "{:<30}{:<20}{:>14}", "Layer (type)", "Output shape", "Param #")?;
        writeln!(f, "{rule}")?;
        for r in &self.rows {
            writeln!(f, "{:<30}{:<20}{:>14}", r.layer, r.output_shape, thousands(r.parameters))?;
        }
        writeln!(f, "{rule}")?;
        write!(f, "Total params: {}", thousands(self.total_parameters()))
    }
}

/// 109386 → "109,386"
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
