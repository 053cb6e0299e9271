//! Reading a row of scores (logits or probabilities): the best class, the best few, and the
//! parts of softmax. Every argmax and top-n of the crate is one of these.

/// The index of the largest value; the first one on a tie, and NaN never wins.
pub fn argmax(values: &[f32]) -> usize {
    largest(values).0
}

/// The index and value of the largest; `(0, −∞)` when there is none.
fn largest(values: &[f32]) -> (usize, f32) {
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

/// For one row of logits: the index of the largest, the largest, and `Σ exp(z − max)`.
/// Subtracting the max keeps `exp` from overflowing; it cancels out of softmax, and
/// `ln(sum) + max − z[label]` is that row's cross-entropy.
pub fn softmax_parts(row: &[f32]) -> (usize, f32, f32) {
    let (best, max) = largest(row);
    let sum = row.iter().map(|z| (z - max).exp()).sum();
    (best, max, sum)
}
