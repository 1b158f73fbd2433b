//! `Motion`: an SMPL-24 clip (local quaternions on the SMPL rest offsets plus the pelvis
//! position), with resampling (slerp) and floor alignment.

use super::frame::{keep_sign, MotionFrame};
use crate::skeleton::rotation::{quat_normalize, slerp, Quat, Vec3};
use crate::skeleton::smpl::NUM_JOINTS;
use crate::skeleton::smpl_fk;

/// SMPL joints that touch the floor: ankles and feet (toe bases).
pub const FOOT_JOINTS: [usize; 4] = [7, 8, 10, 11];

/// Why a motion operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MotionError {
    #[error("empty clip: no frames")]
    Empty,
    #[error("invalid frame rate {0}")]
    BadFrameRate(f32),
}

/// An SMPL-24 clip.
#[derive(Debug, Clone, PartialEq)]
pub struct Motion {
    pub fps: f32,
    /// Pelvis world position per frame, metres.
    pub root: Vec<Vec3>,
    /// Local joint rotations `(x, y, z, w)` per frame.
    pub rotations: Vec<[Quat; NUM_JOINTS]>,
}

impl Motion {
    pub fn len(&self) -> usize {
        self.root.len().min(self.rotations.len())
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Length in seconds.
    pub fn duration(&self) -> f32 {
        if self.fps > 0.0 {
            self.len().saturating_sub(1) as f32 / self.fps
        } else {
            0.0
        }
    }
    /// Frame `i` as a [`MotionFrame`] (`t = i / fps`); `None` past the end.
    pub fn frame(&self, i: usize) -> Option<MotionFrame> {
        let fps = if self.fps > 0.0 { self.fps as f64 } else { 30.0 };
        Some(MotionFrame { root: *self.root.get(i)?, rotations: *self.rotations.get(i)?, ..MotionFrame::rest(i as u64, i as f64 / fps) })
    }

    /// Joint positions at `frame` (FK on the SMPL rest offsets).
    pub fn positions(&self, frame: usize) -> Option<[Vec3; NUM_JOINTS]> {
        Some(smpl_fk(self.rotations.get(frame)?, *self.root.get(frame)?))
    }

    /// Resample to `fps` (linear root, slerp rotations), keeping the clip's duration.
    pub fn resample(&self, fps: f32) -> Result<Motion, MotionError> {
        if self.is_empty() {
            return Err(MotionError::Empty);
        }
        for f in [fps, self.fps] {
            if !(f.is_finite() && f > 0.0) {
                return Err(MotionError::BadFrameRate(f));
            }
        }
        let n_out = (self.duration() * fps + 1e-4).floor() as usize + 1;
        let last = self.len() - 1;
        let mut out = Motion { fps, root: Vec::with_capacity(n_out), rotations: Vec::with_capacity(n_out) };
        for k in 0..n_out {
            let t = (k as f32 * self.fps / fps).min(last as f32);
            let i = (t.floor() as usize).min(last);
            let j = (i + 1).min(last);
            let a = t - i as f32;
            let (r0, r1) = (self.root[i], self.root[j]);
            out.root.push(std::array::from_fn(|c| r0[c] + a * (r1[c] - r0[c])));
            let (q0, q1) = (&self.rotations[i], &self.rotations[j]);
            out.rotations.push(std::array::from_fn(|n| quat_normalize(slerp(q0[n], q1[n], a))));
        }
        Ok(out)
    }

    /// Shift the root vertically so that the lowest foot joint over the whole clip is at
    /// height 0. Returns the shift applied.
    pub fn align_floor(&mut self) -> f32 {
        let lowest =
            (0..self.len()).filter_map(|f| self.positions(f)).flat_map(|p| FOOT_JOINTS.map(|j| p[j][1])).fold(f32::INFINITY, f32::min);
        if !lowest.is_finite() {
            return 0.0;
        }
        for r in &mut self.root {
            r[1] -= lowest;
        }
        -lowest
    }

    /// Make consecutive quaternions lie in the same hemisphere (no sign flips).
    pub fn make_continuous(&mut self) {
        for f in 1..self.rotations.len() {
            let prev = self.rotations[f - 1];
            keep_sign(&prev, &mut self.rotations[f]);
        }
    }
}
