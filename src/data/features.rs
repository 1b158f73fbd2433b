//! Training-target features from an SMPL-24 [`Motion`]: canonicalisation (first frame faces
//! +Z, root over the origin, feet on the floor), mirroring, speed changes, fixed-length
//! windows, foot contacts, and the per-frame 151-dim target
//! `[24 x 6D local rotation | 4 foot contacts | 3 root translation]`.

use super::motion::{Motion, MotionError};
use crate::skeleton::rotation::*;
use crate::skeleton::smpl::{LEFT_RIGHT, NUM_JOINTS};

/// Values per frame in the target.
pub const FEATURE_DIM: usize = NUM_JOINTS * 6 + 4 + 3;
/// Joints whose contacts are flagged: left ankle, left foot, right ankle, right foot.
pub const CONTACT_JOINTS: [usize; 4] = [7, 10, 8, 11];
/// Height below which a contact joint may touch the floor (ankle, foot), metres.
pub const CONTACT_HEIGHT: [f32; 4] = [0.12, 0.06, 0.12, 0.06];
/// Speed below which a contact joint may be planted, m/s.
pub const CONTACT_SPEED: f32 = 0.4;

/// Facing direction (horizontal unit vector) of a posed body, from its hips.
pub fn facing(positions: &[Vec3; NUM_JOINTS]) -> Vec3 {
    let left = sub(positions[1], positions[2]);
    normalize(cross([left[0], 0.0, left[2]], [0.0, 1.0, 0.0]))
}

/// First frame faces +Z with its root over the origin; feet on the floor.
pub fn canonicalize(m: &Motion) -> Result<Motion, MotionError> {
    let p0 = m.positions(0).ok_or(MotionError::Empty)?;
    let f = facing(&p0);
    let yaw = axis_angle_to_quat([0.0, -f[0].atan2(f[2]), 0.0]);
    let origin = [m.root[0][0], 0.0, m.root[0][2]];
    let mut out = m.clone();
    for (r, rot) in out.root.iter_mut().zip(out.rotations.iter_mut()) {
        *r = quat_rotate(yaw, sub(*r, origin));
        rot[0] = quat_normalize(quat_mul(yaw, rot[0]));
    }
    out.align_floor();
    Ok(out)
}

/// Mirror left and right (reflect X, swap left/right joints).
pub fn mirror(m: &Motion) -> Motion {
    let reflect = |q: Quat| [q[0], -q[1], -q[2], q[3]];
    let mut out = m.clone();
    for (r, rot) in out.root.iter_mut().zip(out.rotations.iter_mut()) {
        r[0] = -r[0];
        let src = *rot;
        for j in 0..NUM_JOINTS {
            rot[j] = reflect(src[j]);
        }
        for &(l, rr) in &LEFT_RIGHT {
            rot[l] = reflect(src[rr]);
            rot[rr] = reflect(src[l]);
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

/// Foot contacts per frame (1.0 = planted), from contact-joint height and speed.
pub fn foot_contacts(m: &Motion) -> Vec<[f32; 4]> {
    let pos: Vec<[Vec3; NUM_JOINTS]> = (0..m.len()).filter_map(|f| m.positions(f)).collect();
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

/// The per-frame 151-dim target.
pub fn features(m: &Motion) -> Vec<[f32; FEATURE_DIM]> {
    let contacts = foot_contacts(m);
    (0..m.len())
        .map(|f| {
            let mut v = [0.0; FEATURE_DIM];
            for j in 0..NUM_JOINTS {
                v[j * 6..j * 6 + 6].copy_from_slice(&quat_to_6d(m.rotations[f][j]));
            }
            v[NUM_JOINTS * 6..NUM_JOINTS * 6 + 4].copy_from_slice(&contacts[f]);
            v[NUM_JOINTS * 6 + 4..].copy_from_slice(&m.root[f]);
            v
        })
        .collect()
}
