//! `a·b` for the fast paths, calling gemm (the library Candle's CPU matmul calls) with the
//! parallelism chosen here rather than the one `RAYON_NUM_THREADS` dictates to Candle.
//!
//! The call is the one Candle makes, so the products are bit for bit the same as `a.matmul(&b)`.
//!
//! [`linear_recorded`] is a Dense layer's product `x·Wᵀ` inside autograd's graph, for
//! `Dense::forward`. Candle's own matmul asks the system for the number of cores on every call (on
//! Linux it parses `/proc/cpuinfo` unless `RAYON_NUM_THREADS` is set) and hands even a batch of 32
//! to its thread pool, and `x.matmul(&w.t())` leaves autograd a transposed `[in, out]` gradient to
//! add up element by element; together they made autograd training slower on two threads than on
//! one.

use crate::fast::threads;
use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor, bail};
use gemm::Parallelism;

/// Products of at least this many multiply-adds are split over the crate's threads. A training
/// step at batch 32 or 128 (3–13 million) is faster on one thread; 10,000 test images through
/// the first layer (1 billion) take half the time on two cores.
const PARALLEL_WORK: usize = 1 << 26;

/// `a` `[m, k]` times `b` `[k, n]`, any strides (a transposed view costs no copy); f32 on the CPU.
/// No graph is recorded.
pub(crate) fn matmul(a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    a.apply_op2_no_bwd(b, &MatMul)
}

/// `x·Wᵀ` for `x` `[batch, in]` and `weight` `[out, in]`, recorded in the graph:
/// `loss.backward()` gets `∂x = ∂z·W` and `∂W = ∂zᵀ·x` (`[out, in]`, as the weight is stored)
/// from these same products. f32 on the CPU only; callers use Candle's ops elsewhere.
pub(crate) fn linear_recorded(x: &Tensor, weight: &Tensor) -> candle_core::Result<Tensor> {
    x.apply_op2(weight, Linear)
}

struct Linear;

impl CustomOp2 for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        xl: &Layout,
        weight: &CpuStorage,
        wl: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        MatMul.cpu_fwd(x, xl, weight, &wl.transpose(0, 1)?)
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _z: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        // Only for what records a graph: the first layer's input is the images, whose gradient
        // (a product as large as the layer's forward) nobody reads.
        let dx = x.track_op().then(|| matmul(grad, weight)).transpose()?;
        let dw = weight.track_op().then(|| matmul(&grad.t()?, x)).transpose()?;
        Ok((dx, dw))
    }
}

struct MatMul;

impl CustomOp2 for MatMul {
    fn name(&self) -> &'static str {
        "matmul"
    }

    fn cpu_fwd(
        &self,
        a: &CpuStorage,
        al: &Layout,
        b: &CpuStorage,
        bl: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(a), CpuStorage::F32(b)) = (a, b) else {
            bail!("matmul: expects f32 tensors");
        };
        let (&[m, k], &[k_b, n]) = (al.dims(), bl.dims()) else {
            bail!("matmul: expects two matrices, got {:?} and {:?}", al.dims(), bl.dims());
        };
        if k != k_b {
            bail!("matmul: [{m}, {k}] times [{k_b}, {n}]");
        }
        let (a, b) = (within(a, al)?, within(b, bl)?);
        let mut product = vec![0f32; m * n];
        let (a_rows, a_cols, b_rows, b_cols) =
            (al.stride()[0] as isize, al.stride()[1] as isize, bl.stride()[0] as isize, bl.stride()[1] as isize);
        let mut multiply = |parallelism| {
            // SAFETY: `within` checked that every element the strides reach lies inside `a` and
            // `b`; `product` is a fresh row-major m×n buffer (column stride 1, row stride n).
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    product.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    a.as_ptr(),
                    a_cols,
                    a_rows,
                    b.as_ptr(),
                    b_cols,
                    b_rows,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    parallelism,
                )
            }
        };
        match threads::pool() {
            Some(pool) if m * n * k >= PARALLEL_WORK => {
                pool.install(|| multiply(Parallelism::Rayon(pool.current_num_threads())))
            }
            _ => multiply(Parallelism::None),
        }
        Ok((CpuStorage::F32(product), Shape::from((m, n))))
    }
}

/// The part of `data` that `layout` starts at, after checking that the last element its
/// strides reach is inside.
fn within<'a>(data: &'a [f32], layout: &Layout) -> candle_core::Result<&'a [f32]> {
    let start = layout.start_offset();
    let last = layout.dims().iter().zip(layout.stride()).try_fold(start, |end, (&dim, &stride)| {
        dim.checked_sub(1).map_or(Some(end), |steps| steps.checked_mul(stride)?.checked_add(end))
    });
    match last {
        Some(last) if layout.shape().elem_count() == 0 || last < data.len() => Ok(&data[start.min(data.len())..]),
        _ => bail!("matmul: layout {layout:?} reaches past the {} values stored", data.len()),
    }
}
