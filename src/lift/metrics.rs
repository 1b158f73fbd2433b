//! Motion-quality metrics over SMPL-24 joint sequences (`[frames][24][3]`, metres in, mm out).
//!
//! - MPJPE: mean joint distance after subtracting each frame's pelvis (joint 0), mm.
//! - PA-MPJPE: mean joint distance after a per-frame similarity Procrustes alignment (rotation,
//!   uniform scale, translation; Horn's quaternion method), mm.
//! - Acceleration error: mean |a_pred − a_gt| with a = p[t+1] − 2p[t] + p[t−1] on pelvis-relative
//!   joints, mm/frame².
//! - Jitter: mean third-difference magnitude |p[t+2] − 3p[t+1] + 3p[t] − p[t−1]| of the predicted
//!   world joints, mm/frame³ (0 for any quadratic trajectory; measures high-frequency shake).
//! - Foot skate: over frame pairs where a foot joint (left/right foot, SMPL 10/11) is below 5 cm
//!   in both frames (height above the clip's lowest foot-joint point), the fraction whose
//!   horizontal (XZ) slide exceeds 2.5 cm. `None` when no foot is ever that low.
use crate::skeleton::rotation::{add, dot, norm, quat_rotate, scale, sub, Quat, Vec3};
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

/// Similarity transform (s, R, t) minimising Σ|s·R·p + t − g|².
pub fn procrustes(p: &[Vec3], g: &[Vec3]) -> (f32, Quat, Vec3) {
    let n = p.len().max(1) as f32;
    let cp = scale(p.iter().fold([0.0; 3], |a, b| add(a, *b)), 1.0 / n);
    let cg = scale(g.iter().fold([0.0; 3], |a, b| add(a, *b)), 1.0 / n);
    let mut m = [[0.0f64; 3]; 3]; // m[a][b] = Σ p_a g_b
    for (a, b) in p.iter().zip(g) {
        let (a, b) = (sub(*a, cp), sub(*b, cg));
        for i in 0..3 {
            for k in 0..3 {
                m[i][k] += (a[i] * b[k]) as f64;
            }
        }
    }
    let [[sxx, sxy, sxz], [syx, syy, syz], [szx, szy, szz]] = m;
    let nm = [
        [sxx + syy + szz, syz - szy, szx - sxz, sxy - syx],
        [syz - szy, sxx - syy - szz, sxy + syx, szx + sxz],
        [szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy],
        [sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz],
    ];
    let v = top_eigenvector(nm); // (w, x, y, z)
    let q: Quat = [v[1] as f32, v[2] as f32, v[3] as f32, v[0] as f32];
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (a, b) in p.iter().zip(g) {
        let ra = quat_rotate(q, sub(*a, cp));
        num += dot(ra, sub(*b, cg)) as f64;
        den += dot(ra, ra) as f64;
    }
    let s = if den > 1e-12 { (num / den) as f32 } else { 1.0 };
    let t = sub(cg, scale(quat_rotate(q, cp), s));
    (s, q, t)
}

/// Eigenvector of the largest eigenvalue of a symmetric 4×4 matrix (cyclic Jacobi).
fn top_eigenvector(mut a: [[f64; 4]; 4]) -> [f64; 4] {
    let mut v = [[0.0f64; 4]; 4];
    for (i, row) in v.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for _ in 0..50 {
        let off: f64 = (0..4).flat_map(|i| (0..4).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[i][j] * a[i][j]).sum();
        if off < 1e-22 {
            break;
        }
        for p in 0..3 {
            for q in p + 1..4 {
                if a[p][q].abs() < 1e-30 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for row in a.iter_mut() {
                    let (akp, akq) = (row[p], row[q]);
                    row[p] = c * akp - s * akq;
                    row[q] = s * akp + c * akq;
                }
                for k in 0..4 {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vp, vq) = (row[p], row[q]);
                    row[p] = c * vp - s * vq;
                    row[q] = s * vp + c * vq;
                }
            }
        }
    }
    let k = (0..4).max_by(|&i, &j| a[i][i].total_cmp(&a[j][j])).unwrap_or(0);
    let e = [v[0][k], v[1][k], v[2][k], v[3][k]];
    let n = e.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-30);
    e.map(|x| x / n)
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
