//! [`MotionFrame`]: the one frame type every sink consumes, and its sanitiser (no NaN or
//! infinity ever leaves on the wire; quaternions are renormalised).

use std::time::Instant;

use crate::data::motion::Motion;
use crate::skeleton::rotation::{Quat, Vec3, QUAT_IDENTITY};
use crate::skeleton::smpl::NUM_JOINTS;

/// One SMPL-24 motion frame. Right-handed, Y up, the subject faces +Z (SMPL's convention).
#[derive(Debug, Clone, PartialEq)]
pub struct MotionFrame {
    /// Frame counter (monotonic per stream).
    pub frame: u64,
    /// Stream time in seconds.
    pub t: f64,
    /// When the video frame behind this motion frame was captured (for latency accounting).
    pub captured: Option<Instant>,
    /// Pelvis world position in metres, floor-aligned (feet at y = 0, as `Motion::align_floor`).
    pub root: Vec3,
    /// Local joint rotations `(x, y, z, w)` in SMPL order; joint 0 is the global orientation.
    pub rotations: [Quat; NUM_JOINTS],
    /// Foot contact probabilities: left ankle, left foot (toe), right ankle, right foot (`data::features::CONTACT_JOINTS`).
    pub contacts: [f32; 4],
    /// True when the frame was predicted without a fresh detection (occlusion, dropped frame).
    pub inferred: bool,
}

impl MotionFrame {
    /// The T-pose at the origin.
    pub fn rest(frame: u64, t: f64) -> Self {
        Self { frame, t, captured: None, root: [0.0; 3], rotations: [QUAT_IDENTITY; NUM_JOINTS], contacts: [0.0; 4], inferred: false }
    }

    /// Frame `i` of a clip (`t = i / fps`); `None` past the end.
    pub fn from_motion(motion: &Motion, i: usize) -> Option<Self> {
        let fps = if motion.fps > 0.0 { motion.fps as f64 } else { 30.0 };
        Some(Self { root: *motion.root.get(i)?, rotations: *motion.rotations.get(i)?, ..Self::rest(i as u64, i as f64 / fps) })
    }

    /// A copy with every value finite: non-finite scalars become 0, a quaternion with a
    /// non-finite or (near) zero component vector becomes identity, the others are renormalised;
    /// contacts are clamped to `[0, 1]`. Returns the copy and how many values were replaced.
    pub fn sanitized(&self) -> (MotionFrame, u64) {
        let mut out = self.clone();
        let fixed = out.sanitize();
        (out, fixed)
    }

    /// In-place form of [`Self::sanitized`].
    pub fn sanitize(&mut self) -> u64 {
        let mut fixed = 0;
        let mut fix = |v: &mut f32| {
            if !v.is_finite() {
                *v = 0.0;
                fixed += 1;
            }
        };
        self.root.iter_mut().for_each(&mut fix);
        self.contacts.iter_mut().for_each(&mut fix);
        for c in &mut self.contacts {
            *c = c.clamp(0.0, 1.0);
        }
        if !self.t.is_finite() {
            self.t = 0.0;
            fixed += 1;
        }
        for q in &mut self.rotations {
            let (clean, bad) = clean_quat(*q);
            *q = clean;
            fixed += bad;
        }
        fixed
    }

    /// True when every value is finite and every quaternion is unit length (within `tol`).
    pub fn is_clean(&self, tol: f32) -> bool {
        self.t.is_finite()
            && self.root.iter().chain(self.contacts.iter()).all(|v| v.is_finite())
            && self
                .rotations
                .iter()
                .all(|q| q.iter().all(|v| v.is_finite()) && (q.iter().map(|v| v * v).sum::<f32>().sqrt() - 1.0).abs() <= tol)
    }
}

/// A unit quaternion from `q`: identity when `q` has a non-finite component or no length.
/// Returns the number of replaced components (0 when `q` was only renormalised).
pub fn clean_quat(q: Quat) -> (Quat, u64) {
    let bad = q.iter().filter(|v| !v.is_finite()).count() as u64;
    if bad > 0 {
        return (QUAT_IDENTITY, bad);
    }
    let n = q.iter().map(|v| (*v as f64) * (*v as f64)).sum::<f64>().sqrt();
    if !n.is_finite() || n <= 1e-6 {
        return (QUAT_IDENTITY, 1);
    }
    (q.map(|v| (v as f64 / n) as f32), 0)
}

/// `q` or `-q`, whichever lies in the same hemisphere as `prev` (sign continuity).
pub fn continuous(prev: Quat, q: Quat) -> Quat {
    if prev.iter().zip(q.iter()).map(|(a, b)| a * b).sum::<f32>() < 0.0 {
        q.map(|c| -c)
    } else {
        q
    }
}
