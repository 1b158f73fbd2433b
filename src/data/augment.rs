//! Training-set augmentation of SMPL-24 clips: mirroring, speed changes and fixed-length
//! windows. (The per-frame features and the canonical placement are the motion contract's,
//! [`crate::motion::codec`] and [`crate::motion::placement`].)

use crate::motion::{Motion, MotionError};

/// Mirror left and right (reflect X, swap left/right joints: [`crate::motion::MotionFrame::mirrored`]).
pub fn mirror(m: &Motion) -> Motion {
    let mut out = m.clone();
    for (i, (r, rot)) in out.root.iter_mut().zip(out.rotations.iter_mut()).enumerate() {
        if let Some(f) = m.frame(i).map(|f| f.mirrored()) {
            (*r, *rot) = (f.root, f.rotations);
        }
    }
    out
}

/// Play `factor` times faster (or slower), resampled back to the clip's frame rate.
pub fn change_speed(m: &Motion, factor: f32) -> Result<Motion, MotionError> {
    let faster = Motion { fps: m.fps * factor, ..m.clone() };
    faster.resample(m.fps)
}

/// Windows of `len` frames every `stride` frames (the tail that does not fill one is dropped).
pub fn windows(m: &Motion, len: usize, stride: usize) -> Vec<Motion> {
    let stride = stride.max(1);
    (0..m.len().saturating_sub(len).saturating_add(1))
        .step_by(stride)
        .filter(|s| s + len <= m.len() && len > 0)
        .map(|s| Motion { fps: m.fps, root: m.root[s..s + len].to_vec(), rotations: m.rotations[s..s + len].to_vec() })
        .collect()
}
