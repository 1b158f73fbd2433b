//! The per-frame feature codec: the 151 values the denoiser reads and writes for one frame,
//! `[24 × 6D local rotation | 4 foot contacts | 3 root translation]` (offsets [`ROTATIONS`],
//! [`CONTACTS`], [`ROOT`]), its encoder for clips (contacts from foot height and speed) and for
//! single frames, the decoder back to [`MotionFrame`]s (6D → unit quaternions, sign-continuous
//! from frame to frame), and the per-feature [`Normalizer`] of model space.
use super::clip::Motion;
use super::frame::{keep_sign, MotionFrame};
use crate::skeleton::rotation::{norm, quat_normalize, quat_to_6d, sixd_to_quat, sub, QUAT_IDENTITY};
use crate::skeleton::smpl::NUM_JOINTS;

/// Offset of the 24 6D rotations (6 values each, SMPL joint order).
pub const ROTATIONS: usize = 0;
/// Offset of the 4 foot contacts.
pub const CONTACTS: usize = NUM_JOINTS * 6;
/// Offset of the 3 root translation values.
pub const ROOT: usize = CONTACTS + 4;
/// Values per frame.
pub const FEATURE_DIM: usize = ROOT + 3;

/// Joints whose contacts are flagged: left ankle, left foot, right ankle, right foot.
pub const CONTACT_JOINTS: [usize; 4] = [7, 10, 8, 11];
/// Height below which a contact joint may touch the floor (ankle, foot), metres.
pub const CONTACT_HEIGHT: [f32; 4] = [0.12, 0.06, 0.12, 0.06];
/// Speed below which a contact joint may be planted, m/s.
pub const CONTACT_SPEED: f32 = 0.4;

/// One frame's features.
pub fn encode_frame(f: &MotionFrame) -> [f32; FEATURE_DIM] {
    let mut v = [0.0; FEATURE_DIM];
    for j in 0..NUM_JOINTS {
        v[ROTATIONS + j * 6..ROTATIONS + j * 6 + 6].copy_from_slice(&quat_to_6d(f.rotations[j]));
    }
    v[CONTACTS..CONTACTS + 4].copy_from_slice(&f.contacts);
    v[ROOT..ROOT + 3].copy_from_slice(&f.root);
    v
}

/// One feature vector as a frame (`frame` 0, `t` 0, not inferred). A degenerate or non-finite
/// 6D gives the identity rotation, a non-finite root or contact value 0.
pub fn decode_frame(f: &[f32]) -> MotionFrame {
    let fin = |x: f32| if x.is_finite() { x } else { 0.0 };
    let rotations = std::array::from_fn(|j| {
        let d: [f32; 6] = std::array::from_fn(|k| f[ROTATIONS + j * 6 + k]);
        let q = quat_normalize(sixd_to_quat(&d));
        if d.iter().all(|x| x.is_finite()) && q.iter().all(|x| x.is_finite()) && (norm([q[0], q[1], q[2]]) <= 1.0 + 1e-3) {
            q
        } else {
            QUAT_IDENTITY
        }
    });
    MotionFrame {
        root: std::array::from_fn(|k| fin(f[ROOT + k])),
        rotations,
        contacts: std::array::from_fn(|k| fin(f[CONTACTS + k])),
        ..MotionFrame::rest(0, 0.0)
    }
}

/// A clip's features, frame by frame, with contacts from [`foot_contacts`].
pub fn encode(m: &Motion) -> Vec<[f32; FEATURE_DIM]> {
    let contacts = foot_contacts(m);
    (0..m.len()).filter_map(|i| m.frame(i)).zip(contacts).map(|(f, contacts)| encode_frame(&MotionFrame { contacts, ..f })).collect()
}

/// Feature vectors back to frames `0..` at `fps`, each quaternion in the hemisphere of the
/// previous frame's.
pub fn decode<F: AsRef<[f32]>>(features: &[F], fps: f64) -> Vec<MotionFrame> {
    let mut out: Vec<MotionFrame> = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let mut frame = MotionFrame { frame: i as u64, t: i as f64 / fps, ..decode_frame(f.as_ref()) };
        if let Some(prev) = out.last() {
            keep_sign(&prev.rotations, &mut frame.rotations);
        }
        out.push(frame);
    }
    out
}

/// Foot contacts per frame (1.0 = planted), from contact-joint height and speed.
pub fn foot_contacts(m: &Motion) -> Vec<[f32; 4]> {
    let pos: Vec<_> = (0..m.len()).filter_map(|f| m.positions(f)).collect();
    (0..pos.len())
        .map(|f| {
            let (a, b) = if f == 0 { (0, 1.min(pos.len() - 1)) } else { (f - 1, f) };
            std::array::from_fn(|c| {
                let j = CONTACT_JOINTS[c];
                let speed = norm(sub(pos[b][j], pos[a][j])) * m.fps;
                let planted = pos[f][j][1] < CONTACT_HEIGHT[c] && speed < CONTACT_SPEED;
                if planted {
                    1.0
                } else {
                    0.0
                }
            })
        })
        .collect()
}

/// Per-feature normalisation with a floor on the std (model space = (x − mean) / max(std, 1e-6)).
#[derive(Debug, Clone, PartialEq)]
pub struct Normalizer {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Normalizer {
    pub fn identity(dim: usize) -> Self {
        Self { mean: vec![0.0; dim], std: vec![1.0; dim] }
    }

    /// From a checkpoint's statistics; identity when they are missing or not `dim` long.
    pub fn from_stats(mean: Option<&[f32]>, std: Option<&[f32]>, dim: usize) -> Self {
        match (mean, std) {
            (Some(m), Some(s)) if m.len() == dim && s.len() == dim => Self { mean: m.to_vec(), std: s.to_vec() },
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
