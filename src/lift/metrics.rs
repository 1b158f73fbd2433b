//! Motion-quality metrics over SMPL-24 joint sequences (`[frames][24][3]`, metres in, mm out).
//!
//! - MPJPE: mean joint distance after subtracting each frame's pelvis (joint 0), mm.
//! - PA-MPJPE: mean joint distance after a per-frame similarity Procrustes alignment (rotation,
//!   uniform scale, translation; Horn's quaternion method, [`crate::skeleton::procrustes`]), mm.
//! - Acceleration error: mean |a_pred − a_gt| with a = p\[t+1\] − 2p\[t\] + p\[t−1\] on pelvis-relative
//!   joints, mm/frame².
//! - Jitter: mean third-difference magnitude |p\[t+2\] − 3p\[t+1\] + 3p\[t\] − p\[t−1\]| of the predicted
//!   world joints, mm/frame³ (0 for any quadratic trajectory; measures high-frequency shake).
//! - Foot skate: over frame pairs where a foot joint (left/right foot, SMPL 10/11) is below 5 cm
//!   in both frames (height above the clip's lowest foot-joint point), the fraction whose
//!   horizontal (XZ) slide exceeds 2.5 cm. `None` when no foot is ever that low.
pub use crate::skeleton::procrustes::procrustes;
use crate::skeleton::rotation::{add, norm, quat_rotate, scale, sub, Vec3};
use crate::skeleton::smpl::NUM_JOINTS;

pub type Joints = [Vec3; NUM_JOINTS];

/// Foot joints checked for skating (left foot, right foot).
pub const SKATE_JOINTS: [usize; 2] = [10, 11];
/// Height under which a foot counts as on the floor, metres.
pub const SKATE_HEIGHT: f32 = 0.05;
/// Horizontal slide between frames above which a grounded foot skates, metres.
pub const SKATE_SLIDE: f32 = 0.025;

fn rel(j: &Joints) -> Joints {
    j.map(|p| sub(p, j[0]))
}

fn mean(v: impl Iterator<Item = f32>) -> f32 {
    let (s, n) = v.fold((0.0f64, 0usize), |(s, n), x| (s + x as f64, n + 1));
    if n == 0 {
        0.0
    } else {
        (s / n as f64) as f32
    }
}

/// Pelvis-aligned MPJPE, mm.
pub fn mpjpe(pred: &[Joints], gt: &[Joints]) -> f32 {
    1000.0
        * mean(pred.iter().zip(gt).flat_map(|(p, g)| {
            let (p, g) = (rel(p), rel(g));
            (0..NUM_JOINTS).map(move |j| norm(sub(p[j], g[j])))
        }))
}

/// Procrustes-aligned MPJPE (per frame, with scale), mm.
pub fn pa_mpjpe(pred: &[Joints], gt: &[Joints]) -> f32 {
    1000.0
        * mean(pred.iter().zip(gt).flat_map(|(p, g)| {
            let (s, q, t) = procrustes(p, g);
            (0..NUM_JOINTS).map(move |j| norm(sub(add(scale(quat_rotate(q, p[j]), s), t), g[j])))
        }))
}

fn accel(x: &[Joints], t: usize, j: usize) -> Vec3 {
    let (a, b, c) = (rel(&x[t - 1])[j], rel(&x[t])[j], rel(&x[t + 1])[j]);
    add(sub(c, scale(b, 2.0)), a)
}

/// Acceleration error, mm/frame² (0 with fewer than 3 frames).
pub fn accel_error(pred: &[Joints], gt: &[Joints]) -> f32 {
    let n = pred.len().min(gt.len());
    1000.0 * mean((1..n.saturating_sub(1)).flat_map(|t| (0..NUM_JOINTS).map(move |j| norm(sub(accel(pred, t, j), accel(gt, t, j))))))
}

/// Jitter of world joints, mm/frame³ (0 with fewer than 4 frames).
pub fn jitter(pred: &[Joints]) -> f32 {
    let n = pred.len();
    1000.0
        * mean((1..n.saturating_sub(2)).flat_map(|t| {
            (0..NUM_JOINTS).map(move |j| {
                let d = add(sub(pred[t + 2][j], scale(pred[t + 1][j], 3.0)), sub(scale(pred[t][j], 3.0), pred[t - 1][j]));
                norm(d)
            })
        }))
}

/// Foot-skate ratio (see the module docs); `None` when no foot is grounded.
pub fn foot_skate(pred: &[Joints]) -> Option<f32> {
    let floor = pred.iter().flat_map(|f| SKATE_JOINTS.map(|j| f[j][1])).fold(f32::INFINITY, f32::min);
    let (mut grounded, mut skating) = (0usize, 0usize);
    for w in pred.windows(2) {
        for j in SKATE_JOINTS {
            let (a, b) = (w[0][j], w[1][j]);
            if a[1] - floor < SKATE_HEIGHT && b[1] - floor < SKATE_HEIGHT {
                grounded += 1;
                let slide = ((b[0] - a[0]).powi(2) + (b[2] - a[2]).powi(2)).sqrt();
                skating += (slide > SKATE_SLIDE) as usize;
            }
        }
    }
    (grounded > 0).then(|| skating as f32 / grounded as f32)
}

/// All metrics of one predicted sequence against its ground truth (same length).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Metrics {
    pub mpjpe_mm: f32,
    pub pa_mpjpe_mm: f32,
    pub accel_error_mm: f32,
    pub jitter_mm: f32,
    pub foot_skate: Option<f32>,
    /// Foot skate of the ground truth, for reference.
    pub foot_skate_gt: Option<f32>,
}

pub fn metrics(pred: &[Joints], gt: &[Joints]) -> Metrics {
    let n = pred.len().min(gt.len());
    let (p, g) = (&pred[..n], &gt[..n]);
    Metrics {
        mpjpe_mm: mpjpe(p, g),
        pa_mpjpe_mm: pa_mpjpe(p, g),
        accel_error_mm: accel_error(p, g),
        jitter_mm: jitter(p),
        foot_skate: foot_skate(p),
        foot_skate_gt: foot_skate(g),
    }
}
