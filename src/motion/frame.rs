//! [`MotionFrame`]: the one SMPL-24 frame type every stage uses (decoded model output, the
//! streaming loop, every sink, the `mocapd.motion/1` file), its validity check and sanitiser
//! (no NaN or infinity ever leaves on the wire; quaternions are renormalised), and quaternion
//! sign continuity.

use crate::skeleton::rotation::{Quat, Vec3, QUAT_IDENTITY};
use crate::skeleton::smpl::{JOINT_NAMES, LEFT_RIGHT, NUM_JOINTS};
use crate::skeleton::smpl_fk;

/// One SMPL-24 motion frame. Right-handed, Y up, metres; the rest pose (all rotations identity)
/// is SMPL's T-pose on the rest offsets of [`crate::skeleton::smpl`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MotionFrame {
    /// Frame counter (the input's frame number; monotonic per stream).
    pub frame: u64,
    /// Media time in seconds.
    pub t: f64,
    /// Pelvis world position in metres.
    pub root: Vec3,
    /// Local joint rotations `(x, y, z, w)` in SMPL order, each relative to its parent; joint 0
    /// is the global orientation.
    pub rotations: [Quat; NUM_JOINTS],
    /// Foot contact scores (the model's raw outputs, 1 = planted): left ankle, left foot (toe),
    /// right ankle, right foot ([`super::codec::CONTACT_JOINTS`]).
    pub contacts: [f32; 4],
    /// True when the input had no fresh detection of the performer for this frame (occlusion,
    /// dropped frame, absence): the pose was generated from the surrounding frames alone.
    pub inferred: bool,
}

impl MotionFrame {
    /// The T-pose at the origin.
    pub fn rest(frame: u64, t: f64) -> Self {
        Self { frame, t, root: [0.0; 3], rotations: [QUAT_IDENTITY; NUM_JOINTS], contacts: [0.0; 4], inferred: false }
    }

    /// World joint positions (forward kinematics on the SMPL rest offsets).
    pub fn joints(&self) -> [Vec3; NUM_JOINTS] {
        smpl_fk(&self.rotations, self.root)
    }

    /// The left-right mirror image: X reflected (a performer facing the camera sees the avatar
    /// move like a mirror), left and right joints and contacts swapped.
    pub fn mirrored(&self) -> MotionFrame {
        let reflect = |q: Quat| [q[0], -q[1], -q[2], q[3]];
        let mut out = *self;
        out.root[0] = -self.root[0];
        out.rotations = self.rotations.map(reflect);
        for &(l, r) in &LEFT_RIGHT {
            out.rotations[l] = reflect(self.rotations[r]);
            out.rotations[r] = reflect(self.rotations[l]);
        }
        let c = self.contacts;
        out.contacts = [c[2], c[3], c[0], c[1]];
        out
    }

    /// Contacts as booleans: scores above `threshold`.
    pub fn contact_flags(&self, threshold: f32) -> [bool; 4] {
        self.contacts.map(|c| c > threshold)
    }

    /// Why this frame cannot be written (`None` when every number is finite and every
    /// quaternion is unit length within 1e-3).
    pub fn problem(&self) -> Option<String> {
        let fin = |v: &[f32]| v.iter().all(|x| x.is_finite());
        if !self.t.is_finite() {
            return Some("t is not finite".into());
        }
        if !fin(&self.root) {
            return Some("root is not finite (NaN or infinity)".into());
        }
        for (j, q) in self.rotations.iter().enumerate() {
            if !fin(q) {
                return Some(format!("rotation of joint {j} ({}) is not finite", JOINT_NAMES[j]));
            }
            let n = q.iter().map(|c| c * c).sum::<f32>().sqrt();
            if (n - 1.0).abs() > 1e-3 {
                return Some(format!("rotation of joint {j} ({}) is not a unit quaternion (norm {n})", JOINT_NAMES[j]));
            }
        }
        if !fin(&self.contacts) {
            return Some("contact scores are not finite".into());
        }
        None
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

    /// A copy with every value finite: non-finite scalars become 0, a quaternion with a
    /// non-finite or (near) zero component vector becomes identity, the others are renormalised;
    /// contacts are clamped to `[0, 1]`. Returns the copy and how many values were replaced.
    pub fn sanitized(&self) -> (MotionFrame, u64) {
        let mut out = *self;
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

/// `q` or `-q`, whichever lies in the same hemisphere as `prev` (q and −q are one rotation).
pub fn continuous(prev: Quat, q: Quat) -> Quat {
    if prev.iter().zip(q.iter()).map(|(a, b)| a * b).sum::<f32>() < 0.0 {
        q.map(|c| -c)
    } else {
        q
    }
}

/// [`continuous`] for every joint: flips `q`'s quaternions into the hemispheres of `prev`'s.
pub fn keep_sign(prev: &[Quat; NUM_JOINTS], q: &mut [Quat; NUM_JOINTS]) {
    for (p, q) in prev.iter().zip(q.iter_mut()) {
        *q = continuous(*p, *q);
    }
}
