//! Rotation conversions on batched candle tensors (for training losses): 6D <-> matrix and
//! axis-angle -> matrix. Same conventions as [`super::rotation`]: a 6D vector is the first two
//! matrix columns; matrices are `[..., 3, 3]` with index `[..., row, col]`.

use candle_core::{Result, Tensor, D};

fn last(x: &Tensor, start: usize, len: usize) -> Result<Tensor> {
    x.narrow(D::Minus1, start, len)
}

fn normalize(x: &Tensor) -> Result<Tensor> {
    let n = x.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?.clamp(1e-8, f64::MAX)?;
    x.broadcast_div(&n)
}

fn dot(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    (a * b)?.sum_keepdim(D::Minus1)
}

/// Cross product over the last dimension (size 3).
pub fn cross(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (a0, a1, a2) = (last(a, 0, 1)?, last(a, 1, 1)?, last(a, 2, 1)?);
    let (b0, b1, b2) = (last(b, 0, 1)?, last(b, 1, 1)?, last(b, 2, 1)?);
    let c0 = ((&a1 * &b2)? - (&a2 * &b1)?)?;
    let c1 = ((&a2 * &b0)? - (&a0 * &b2)?)?;
    let c2 = ((&a0 * &b1)? - (&a1 * &b0)?)?;
    Tensor::cat(&[c0, c1, c2], D::Minus1)
}

/// `[..., 6]` -> `[..., 3, 3]` by Gram-Schmidt (Zhou et al. 2019).
pub fn sixd_to_mat(d: &Tensor) -> Result<Tensor> {
    let a1 = last(d, 0, 3)?;
    let a2 = last(d, 3, 3)?;
    let b1 = normalize(&a1)?;
    let b2 = normalize(&(&a2 - b1.broadcast_mul(&dot(&b1, &a2)?)?)?)?;
    let b3 = cross(&b1, &b2)?;
    // Stacking on the last dim makes b1, b2, b3 the columns.
    Tensor::stack(&[b1, b2, b3], D::Minus1)
}

/// `[..., 3, 3]` -> `[..., 6]`: the first two columns, column-major.
pub fn mat_to_sixd(m: &Tensor) -> Result<Tensor> {
    let c0 = m.narrow(D::Minus1, 0, 1)?.squeeze(D::Minus1)?;
    let c1 = m.narrow(D::Minus1, 1, 1)?.squeeze(D::Minus1)?;
    Tensor::cat(&[c0, c1], D::Minus1)
}

/// Axis-angle `[..., 3]` -> `[..., 3, 3]` (Rodrigues).
pub fn axis_angle_to_mat(aa: &Tensor) -> Result<Tensor> {
    let angle = aa.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?;
    let axis = aa.broadcast_div(&angle.clamp(1e-8, f64::MAX)?)?;
    let (x, y, z) = (last(&axis, 0, 1)?, last(&axis, 1, 1)?, last(&axis, 2, 1)?);
    let zero = x.zeros_like()?;
    // K = [[0, -z, y], [z, 0, -x], [-y, x, 0]]
    let row = |a: &Tensor, b: &Tensor, c: &Tensor| Tensor::cat(&[a, b, c], D::Minus1);
    let k = Tensor::stack(&[row(&zero, &z.neg()?, &y)?, row(&z, &zero, &x.neg()?)?, row(&y.neg()?, &x, &zero)?], D::Minus2)?;
    let s = angle.sin()?.unsqueeze(D::Minus1)?;
    let c = (1.0 - angle.cos()?)?.unsqueeze(D::Minus1)?;
    let k2 = k.matmul(&k)?;
    let eye = Tensor::eye(3, aa.dtype(), aa.device())?;
    (k.broadcast_mul(&s)? + k2.broadcast_mul(&c)?)?.broadcast_add(&eye)
}
