//! 151-dim motion features ↔ poses: 6D → unit quaternions (sign-continuous frame to frame),
//! forward kinematics, thresholded contacts, and the per-window canonical placement (yaw about
//! Y + horizontal shift) that maps world motion into the frame the model was trained in
//! (first frame faces +Z, root over the origin; `data::features::canonicalize`).
use crate::data::features::{facing, FEATURE_DIM};
use crate::model::MotionStats;
use crate::skeleton::rotation::*;
use crate::skeleton::smpl::NUM_JOINTS;
use crate::skeleton::smpl_fk;

/// Offsets in the 151-dim layout.
pub const CONTACTS: usize = NUM_JOINTS * 6;
pub const ROOT: usize = NUM_JOINTS * 6 + 4;

/// One decoded pose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    pub root: Vec3,
    pub rotations: [Quat; NUM_JOINTS],
    /// Raw contact outputs (left ankle, left foot, right ankle, right foot).
    pub contacts: [f32; 4],
}

impl Pose {
    pub fn joints(&self) -> [Vec3; NUM_JOINTS] {
        smpl_fk(&self.rotations, self.root)
    }
}

/// Decodes one feature vector; a degenerate or non-finite 6D gives the identity rotation, a
/// non-finite root or contact 0.
pub fn decode(f: &[f32]) -> Pose {
    let fin = |x: f32| if x.is_finite() { x } else { 0.0 };
    let rotations = std::array::from_fn(|j| {
        let d: [f32; 6] = std::array::from_fn(|k| f[j * 6 + k]);
        let q = quat_normalize(sixd_to_quat(&d));
        if d.iter().all(|x| x.is_finite()) && q.iter().all(|x| x.is_finite()) && (norm([q[0], q[1], q[2]]) <= 1.0 + 1e-3) {
            q
        } else {
            QUAT_IDENTITY
        }
    });
    Pose { root: std::array::from_fn(|k| fin(f[ROOT + k])), rotations, contacts: std::array::from_fn(|k| fin(f[CONTACTS + k])) }
}

/// Encodes a pose back into a feature vector.
pub fn encode(p: &Pose) -> Vec<f32> {
    let mut v = vec![0.0; FEATURE_DIM];
    for j in 0..NUM_JOINTS {
        v[j * 6..j * 6 + 6].copy_from_slice(&quat_to_6d(p.rotations[j]));
    }
    v[CONTACTS..CONTACTS + 4].copy_from_slice(&p.contacts);
    v[ROOT..ROOT + 3].copy_from_slice(&p.root);
    v
}

/// Flips quaternions into the hemisphere of the previous frame's (q and −q are one rotation).
pub fn keep_sign(prev: &[Quat; NUM_JOINTS], q: &mut [Quat; NUM_JOINTS]) {
    for (p, q) in prev.iter().zip(q.iter_mut()) {
        if dot4(p, q) < 0.0 {
            *q = q.map(|c| -c);
        }
    }
}

fn dot4(a: &Quat, b: &Quat) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A rigid yaw + horizontal shift: canonical = yaw ⊗ (world − origin).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub yaw: Quat,
    pub origin: Vec3,
}

impl Placement {
    pub const IDENTITY: Placement = Placement { yaw: QUAT_IDENTITY, origin: [0.0; 3] };

    /// The placement that makes `p` face +Z with its root over the origin.
    pub fn canonical_for(p: &Pose) -> Placement {
        let f = facing(&p.joints());
        let yaw = axis_angle_to_quat([0.0, -f[0].atan2(f[2]), 0.0]);
        Placement { yaw, origin: [p.root[0], 0.0, p.root[2]] }
    }

    pub fn to_canonical(&self, p: &Pose) -> Pose {
        let mut out = *p;
        out.root = quat_rotate(self.yaw, sub(p.root, self.origin));
        out.rotations[0] = quat_normalize(quat_mul(self.yaw, p.rotations[0]));
        out
    }

    pub fn to_world(&self, p: &Pose) -> Pose {
        let inv = quat_conj(self.yaw);
        let mut out = *p;
        out.root = add(quat_rotate(inv, p.root), self.origin);
        out.rotations[0] = quat_normalize(quat_mul(inv, p.rotations[0]));
        out
    }
}

/// Per-feature normalisation with a floor on the std (model space = (x − mean) / max(std, 1e-6)).
#[derive(Debug, Clone)]
pub struct Normalizer {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Normalizer {
    pub fn identity(dim: usize) -> Self {
        Self { mean: vec![0.0; dim], std: vec![1.0; dim] }
    }
    pub fn from_stats(s: Option<&MotionStats>, dim: usize) -> Self {
        match s {
            Some(s) if s.mean.len() == dim && s.std.len() == dim => Self { mean: s.mean.clone(), std: s.std.clone() },
            _ => Self::identity(dim),
        }
    }
    pub fn normalize(&self, x: &[f32]) -> Vec<f32> {
        x.iter().zip(self.mean.iter().zip(&self.std)).map(|(v, (m, s))| (v - m) / s.max(1e-6)).collect()
    }
    pub fn denormalize(&self, z: &[f32]) -> Vec<f32> {
        z.iter().zip(self.mean.iter().zip(&self.std)).map(|(v, (m, s))| v * s.max(1e-6) + m).collect()
    }
}
