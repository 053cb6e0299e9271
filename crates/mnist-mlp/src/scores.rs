//! Reading a row of scores (logits or probabilities): the best class and the best few. Every
//! argmax and top-n of the crate is one of these.

/// The index of the largest value; the first one on a tie, and NaN never wins.
pub fn argmax(values: &[f32]) -> usize {
    largest(values).0
}

/// The index and value of the largest; `(0, −∞)` when there is none.
pub(crate) fn largest(values: &[f32]) -> (usize, f32) {
    let pairs = values.iter().copied().enumerate();
    pairs.fold((0, f32::NEG_INFINITY), |best, (i, v)| if v > best.1 { (i, v) } else { best })
}

/// The `n` largest values with their indices, largest first (on a tie, the lower index first).
pub fn top(values: &[f32], n: usize) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = values.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked.truncate(n);
    ranked
}
