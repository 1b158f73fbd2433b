//! Placement: the rigid yaw about Y plus horizontal shift that maps world motion into the frame
//! the model works in, under each [`Contract`]: first-frame (the reference frame faces +Z, root
//! over the origin: [`Placement::canonical_for`], [`canonicalize`]) or gravity-view (the camera
//! looks along −Z: [`Placement::gravity_view`] for training views, [`Placement::for_window`] at
//! inference, where only the horizontal shift remains). At inference each window's in-filled
//! frames are moved into it and the output back out.
use super::clip::{Motion, MotionError};
use super::contract::Contract;
use super::frame::MotionFrame;
use crate::skeleton::rotation::{add, axis_angle_to_quat, cross, normalize, quat_conj, quat_mul, quat_normalize, quat_rotate, sub};
use crate::skeleton::rotation::{Quat, Vec3, QUAT_IDENTITY};
use crate::skeleton::smpl::NUM_JOINTS;

/// Facing direction (horizontal unit vector) of a posed body, from its hips.
pub fn facing(positions: &[Vec3; NUM_JOINTS]) -> Vec3 {
    let left = sub(positions[1], positions[2]);
    normalize(cross([left[0], 0.0, left[2]], [0.0, 1.0, 0.0]))
}

/// A rigid yaw + horizontal shift: canonical = yaw ⊗ (world − origin).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub yaw: Quat,
    pub origin: Vec3,
}

impl Placement {
    pub const IDENTITY: Placement = Placement { yaw: QUAT_IDENTITY, origin: [0.0; 3] };

    /// The placement that makes `f` face +Z with its root over the origin.
    pub fn canonical_for(f: &MotionFrame) -> Placement {
        let d = facing(&f.joints());
        let yaw = axis_angle_to_quat([0.0, -d[0].atan2(d[2]), 0.0]);
        Placement { yaw, origin: [f.root[0], 0.0, f.root[2]] }
    }

    /// The training placement of a view under the gravity-view contract: the camera, whose
    /// position lies at heading `camera_yaw` from the subject (the direction
    /// `(sin yaw, 0, cos yaw)`, as `data::cond2d::CameraPath`), is turned onto +Z, so it looks
    /// along −Z and a body facing it faces +Z; `first`'s root goes over the origin.
    pub fn gravity_view(camera_yaw: f32, first: &MotionFrame) -> Placement {
        Placement { yaw: axis_angle_to_quat([0.0, -camera_yaw, 0.0]), origin: [first.root[0], 0.0, first.root[2]] }
    }

    /// The placement of an inference window whose first in-filled frame is `first`: under
    /// first-frame it faces +Z ([`Self::canonical_for`]); under gravity-view the stream's frame
    /// already is the camera's, so only the root moves over the origin.
    pub fn for_window(contract: Contract, first: &MotionFrame) -> Placement {
        match contract {
            Contract::FirstFrame => Self::canonical_for(first),
            Contract::GravityView => Placement { yaw: QUAT_IDENTITY, origin: [first.root[0], 0.0, first.root[2]] },
        }
    }

    pub fn to_canonical(&self, f: &MotionFrame) -> MotionFrame {
        let mut out = *f;
        out.root = quat_rotate(self.yaw, sub(f.root, self.origin));
        out.rotations[0] = quat_normalize(quat_mul(self.yaw, f.rotations[0]));
        out
    }

    pub fn to_world(&self, f: &MotionFrame) -> MotionFrame {
        let inv = quat_conj(self.yaw);
        let mut out = *f;
        out.root = add(quat_rotate(inv, f.root), self.origin);
        out.rotations[0] = quat_normalize(quat_mul(inv, f.rotations[0]));
        out
    }
}

/// The clip in the canonical placement of its first frame, feet on the floor.
pub fn canonicalize(m: &Motion) -> Result<Motion, MotionError> {
    let place = Placement::canonical_for(&m.frame(0).ok_or(MotionError::Empty)?);
    Ok(place_clip(m, &place))
}

/// The clip moved by `place`, feet on the floor.
pub fn place_clip(m: &Motion, place: &Placement) -> Motion {
    let mut out = m.clone();
    for (r, rot) in out.root.iter_mut().zip(out.rotations.iter_mut()) {
        let f = place.to_canonical(&MotionFrame { root: *r, rotations: *rot, ..MotionFrame::rest(0, 0.0) });
        *r = f.root;
        rot[0] = f.rotations[0];
    }
    out.align_floor();
    out
}
