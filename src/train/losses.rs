//! ViMo's auxiliary losses (§3.4 (ii)-(iii)):
//! FK joint positions L_joints, foot contact L_foot (foot joint velocities masked by the
//! *predicted* contacts), each weighted per frame by w_t; plus the motion (de)normalisation they
//! need (the model works on (x − mean)/std, FK on raw 6D rotations and metres) and MPJPE.
//! L_vel and the x0 loss live in [`super`].
use candle_core::{DType, Device, Result, Tensor, D};

use crate::motion::codec::CONTACT_JOINTS;
use crate::skeleton::rotation_t::sixd_to_mat;
use crate::skeleton::smpl::{self, NUM_JOINTS};

use super::ROT_DIMS;

/// Offset of the 4 contact values and of the 3 root values in a 151-dim frame.
pub const CONTACT_OFFSET: usize = ROT_DIMS;
pub const ROOT_OFFSET: usize = ROT_DIMS + 4;

/// Per-feature normalisation as tensors: model space = (x − mean) / std.
#[derive(Debug, Clone)]
pub struct MotionNorm {
    pub mean: Tensor,
    pub std: Tensor,
}

impl MotionNorm {
    /// From the manifest's stats; std is floored at `min_std` (constant features).
    pub fn new(mean: &[f32], std: &[f32], min_std: f32, dev: &Device) -> Result<Self> {
        let std: Vec<f32> = std.iter().map(|s| if s.is_finite() { s.max(min_std) } else { 1.0 }).collect();
        Ok(Self { mean: Tensor::from_slice(mean, mean.len(), dev)?, std: Tensor::from_vec(std.clone(), std.len(), dev)? })
    }

    pub fn normalize(&self, x: &Tensor) -> Result<Tensor> {
        x.broadcast_sub(&self.mean)?.broadcast_div(&self.std)
    }

    pub fn denormalize(&self, x: &Tensor) -> Result<Tensor> {
        x.broadcast_mul(&self.std)?.broadcast_add(&self.mean)
    }
}

/// a @ b for [..., 3, 3] matrices by broadcasting (much cheaper than candle's batched gemm of
/// thousands of 3×3 products on CPU).
fn mat3(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let r = b.rank();
    a.unsqueeze(D::Minus1)?.broadcast_mul(&b.unsqueeze(r - 2)?)?.sum(D::Minus2)
}

/// SMPL-24 FK of raw motion frames [B, S, 151] (6D rotations → matrices, root translation) to
/// joint positions [B, S, 24, 3] in metres. Same result as `skeleton::fk::smpl_fk_tensor`.
pub fn fk_positions(raw: &Tensor) -> Result<Tensor> {
    let (b, s, _) = raw.dims3()?;
    let rot = sixd_to_mat(&raw.narrow(D::Minus1, 0, ROT_DIMS)?.reshape((b, s, NUM_JOINTS, 6))?)?; // [B,S,24,3,3]
    let root = raw.narrow(D::Minus1, ROOT_OFFSET, 3)?;
    let offsets = smpl::rest_offsets();
    let dev = raw.device();
    let mut global: Vec<Option<Tensor>> = Vec::with_capacity(NUM_JOINTS);
    let mut pos: Vec<Tensor> = Vec::with_capacity(NUM_JOINTS);
    let has_child: Vec<bool> = (0..NUM_JOINTS).map(|j| (0..NUM_JOINTS).any(|c| smpl::parent(c) == Some(j))).collect();
    for j in 0..NUM_JOINTS {
        let r = rot.narrow(2, j, 1)?.squeeze(2)?; // [B, S, 3, 3]
        let (g, p) = match smpl::parent(j) {
            None => (r, root.clone()),
            Some(par) => {
                let gp = global[par].as_ref().ok_or_else(|| candle_core::Error::msg("FK parent without rotation"))?;
                let off = Tensor::new(&offsets[j], dev)?.to_dtype(raw.dtype())?.reshape((1, 1, 1, 3))?;
                let step = gp.broadcast_mul(&off)?.sum(D::Minus1)?; // [B, S, 3]
                let p = (&pos[par] + step)?;
                let g = if has_child[j] { mat3(gp, &r)? } else { r };
                (g, p)
            }
        };
        global.push(has_child[j].then_some(g));
        pos.push(p);
    }
    Tensor::stack(&pos, 2)
}

/// Weights [B] or [B, S] as [B, S].
fn per_frame(w: &Tensor, b: usize, s: usize) -> Result<Tensor> {
    match w.rank() {
        1 => w.reshape((b, 1))?.broadcast_as((b, s))?.contiguous(),
        _ => Ok(w.clone()),
    }
}

/// L_joints: mean over clips and frames of w · (1/24)Σ_j ‖p_j − p̂_j‖² (metres²).
pub fn joints_loss(pred_pos: &Tensor, target_pos: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (b, s, _, _) = pred_pos.dims4()?;
    let err = (pred_pos - target_pos)?.sqr()?.sum(D::Minus1)?.mean(D::Minus1)?; // [B, S]
    (err * per_frame(w, b, s)?)?.mean_all()
}

/// L_foot: mean over clips, frame pairs and the 4 contact joints of
/// w_{i+1} · ‖(p̂_{i+1} − p̂_i)‖² · f̂_i, with f̂ the predicted contacts (raw, clamped to [0, 1]).
pub fn foot_loss(pred_pos: &Tensor, pred_raw: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (b, s, _, _) = pred_pos.dims4()?;
    if s < 2 {
        return Tensor::zeros((), DType::F32, pred_pos.device());
    }
    let parts = CONTACT_JOINTS.iter().map(|&j| pred_pos.narrow(2, j, 1)).collect::<Result<Vec<_>>>()?;
    let feet = Tensor::cat(&parts, 2)?; // [B, S, 4, 3]
    let vel = (feet.narrow(1, 1, s - 1)? - feet.narrow(1, 0, s - 1)?)?.sqr()?.sum(D::Minus1)?; // [B, S-1, 4]
    let f = pred_raw.narrow(D::Minus1, CONTACT_OFFSET, 4)?.narrow(1, 0, s - 1)?.clamp(0f32, 1f32)?;
    let per = (vel * f)?.mean(D::Minus1)?; // [B, S-1]
    (per * per_frame(w, b, s)?.narrow(1, 1, s - 1)?)?.mean_all()
}

/// Root-relative mean per-joint position error in millimetres, positions [B, S, 24, 3].
pub fn mpjpe_mm(pred_pos: &Tensor, target_pos: &Tensor) -> Result<f32> {
    let rel = |p: &Tensor| -> Result<Tensor> { p.broadcast_sub(&p.narrow(2, 0, 1)?) };
    let d = (rel(pred_pos)? - rel(target_pos)?)?.sqr()?.sum(D::Minus1)?.sqrt()?;
    Ok(d.mean_all()?.to_scalar::<f32>()? * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skeleton::fk::smpl_fk_tensor;
    use crate::skeleton::rotation::{axis_angle_to_quat, quat_to_6d};

    /// Raw frames [1, S, 151]: identity rotations, given contacts, root walking along x.
    fn raw(s: usize, contact: f32, bend: Option<(usize, f32)>) -> Result<Tensor> {
        let mut v = Vec::new();
        for f in 0..s {
            for j in 0..NUM_JOINTS {
                let aa = match bend {
                    Some((bj, a)) if bj == j => [a, 0.0, 0.0],
                    _ if j >= 12 => [0.0, 0.0, 0.1 * f as f32 * (j % 3) as f32],
                    _ => [0.0; 3],
                };
                v.extend(quat_to_6d(axis_angle_to_quat(aa)));
            }
            v.extend([contact; 4]);
            v.extend([0.1 * f as f32, 0.9, 0.0]);
        }
        Tensor::from_vec(v, (1, s, 151), &Device::Cpu)
    }

    #[test]
    fn fk_matches_reference_fk() -> Result<()> {
        let x = raw(4, 0.0, Some((4, 0.7)))?;
        let rot = sixd_to_mat(&x.narrow(2, 0, ROT_DIMS)?.reshape((1, 4, 24, 6))?)?;
        let want = smpl_fk_tensor(&rot, &x.narrow(2, ROOT_OFFSET, 3)?)?;
        let got = fk_positions(&x)?;
        let d = (want - got)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(d < 1e-5, "{d}");
        Ok(())
    }

    #[test]
    fn joints_loss_zero_iff_equal() -> Result<()> {
        let w = Tensor::ones((1, 5), DType::F32, &Device::Cpu)?;
        let a = fk_positions(&raw(5, 0.0, None)?)?;
        assert_eq!(joints_loss(&a, &a, &w)?.to_scalar::<f32>()?, 0.0);
        // rotate the left knee (joint 4) by 0.5 rad: ankle + foot move, loss > 0
        let b = fk_positions(&raw(5, 0.0, Some((4, 0.5)))?)?;
        let l = joints_loss(&b, &a, &w)?.to_scalar::<f32>()?;
        assert!(l > 1e-3, "{l}");
        // and w scales it
        let l2 = joints_loss(&b, &a, &(w * 2.0)?)?.to_scalar::<f32>()?;
        assert!((l2 - 2.0 * l).abs() < 1e-6);
        Ok(())
    }

    #[test]
    fn foot_loss_masked_by_contacts() -> Result<()> {
        let w = Tensor::ones((1, 3), DType::F32, &Device::Cpu)?;
        // root moves 0.1 per frame → every foot joint moves 0.1 → ‖v‖² = 0.01
        let x = raw(3, 0.0, None)?;
        let p = fk_positions(&x)?;
        assert_eq!(foot_loss(&p, &x, &w)?.to_scalar::<f32>()?, 0.0);
        let x1 = raw(3, 1.0, None)?;
        let l = foot_loss(&fk_positions(&x1)?, &x1, &w)?.to_scalar::<f32>()?;
        assert!((l - 0.01).abs() < 1e-5, "{l}");
        // contacts are clamped to [0, 1]
        let x5 = raw(3, 5.0, None)?;
        let l5 = foot_loss(&fk_positions(&x5)?, &x5, &w)?.to_scalar::<f32>()?;
        assert!((l5 - l).abs() < 1e-7);
        Ok(())
    }

    #[test]
    fn norm_roundtrip_and_mpjpe() -> Result<()> {
        let dev = Device::Cpu;
        let n = MotionNorm::new(&[1.0; 151], &[2.0; 151], 1e-3, &dev)?;
        let x = raw(2, 1.0, None)?;
        let back = n.denormalize(&n.normalize(&x)?)?;
        assert!((back - &x)?.abs()?.max_all()?.to_scalar::<f32>()? < 1e-6);
        let p = fk_positions(&x)?;
        assert!(mpjpe_mm(&p, &p)? < 1e-6);
        // a pure root shift is removed by the root-relative metric
        let shifted = p.broadcast_add(&Tensor::new(&[1f32, 0., 0.], &dev)?)?;
        assert!(mpjpe_mm(&shifted, &p)? < 1e-3);
        Ok(())
    }
}
