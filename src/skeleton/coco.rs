//! COCO-17 keypoints (the 2D detector's layout) placed from a posed SMPL-24 skeleton.
//!
//! Limbs copy SMPL joints. COCO hips are not SMPL hips: they sit lower and wider, so they hang
//! off the pelvis with fixed offsets in the pelvis frame. Nose, eyes and ears hang off the head
//! joint with fixed offsets in the head frame. Offsets are in metres, in the rest frame
//! (subject faces +Z, left = +X), chosen by hand for the SMPL mean shape.

use super::fk::smpl_fk_posed;
use super::rotation::{add, quat_rotate, Quat, Vec3};
use super::smpl::NUM_JOINTS;

/// Number of COCO-17 keypoints (the 2D detector's layout; `pose` re-exports it as `NUM_KEYPOINTS`).
pub const NUM_COCO: usize = 17;

/// COCO-17 keypoint names, in the detector's output order (`pose::COCO17_NAMES`).
pub const COCO_NAMES: [&str; NUM_COCO] = [
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
];

/// Bones drawn between COCO-17 keypoints (index pairs).
pub const COCO_EDGES: [(usize, usize); 16] = [
    (0, 1),
    (0, 2),
    (1, 3),
    (2, 4),
    (5, 6),
    (5, 7),
    (7, 9),
    (6, 8),
    (8, 10),
    (5, 11),
    (6, 12),
    (11, 12),
    (11, 13),
    (13, 15),
    (12, 14),
    (14, 16),
];

/// Where each COCO keypoint comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CocoSource {
    /// Copy an SMPL joint's position.
    Joint(usize),
    /// An SMPL joint's position plus an offset rotated by that joint's global rotation.
    Offset(usize, Vec3),
}

const PELVIS: usize = 0;
const HEAD: usize = 15;

/// The COCO-17 table.
pub const COCO_FROM_SMPL: [CocoSource; NUM_COCO] = [
    CocoSource::Offset(HEAD, [0.0, 0.005, 0.105]),
    CocoSource::Offset(HEAD, [0.032, 0.03, 0.085]),
    CocoSource::Offset(HEAD, [-0.032, 0.03, 0.085]),
    CocoSource::Offset(HEAD, [0.075, 0.015, -0.005]),
    CocoSource::Offset(HEAD, [-0.075, 0.015, -0.005]),
    CocoSource::Joint(16),
    CocoSource::Joint(17),
    CocoSource::Joint(18),
    CocoSource::Joint(19),
    CocoSource::Joint(20),
    CocoSource::Joint(21),
    CocoSource::Offset(PELVIS, [0.105, -0.115, 0.0]),
    CocoSource::Offset(PELVIS, [-0.105, -0.115, 0.0]),
    CocoSource::Joint(4),
    CocoSource::Joint(5),
    CocoSource::Joint(7),
    CocoSource::Joint(8),
];

/// COCO-17 keypoints from SMPL global rotations and joint positions.
pub fn coco_from_joints(global: &[Quat; NUM_JOINTS], positions: &[Vec3; NUM_JOINTS]) -> [Vec3; NUM_COCO] {
    COCO_FROM_SMPL.map(|src| match src {
        CocoSource::Joint(j) => positions[j],
        CocoSource::Offset(j, off) => add(positions[j], quat_rotate(global[j], off)),
    })
}

/// COCO-17 keypoints from SMPL local rotations and the pelvis position (runs FK).
pub fn coco_from_pose(local: &[Quat; NUM_JOINTS], root: Vec3) -> [Vec3; NUM_COCO] {
    let (global, positions) = smpl_fk_posed(local, root);
    coco_from_joints(&global, &positions)
}

/// COCO-17 keypoints of a body whose bones are scaled: `bone_scale[j]` multiplies joint `j`'s
/// rest offset from its parent (1 = the SMPL mean shape), and the COCO offsets of the hips and the
/// face scale with the pelvis and head bones. The pelvis is at `root`.
pub fn coco_from_pose_scaled(local: &[Quat; NUM_JOINTS], root: Vec3, bone_scale: &[f32; NUM_JOINTS]) -> [Vec3; NUM_COCO] {
    let rest = super::smpl::rest_offsets();
    let offsets: [Vec3; NUM_JOINTS] = std::array::from_fn(|j| rest[j].map(|v| v * bone_scale[j]));
    let posed = super::fk::forward_kinematics(&super::smpl::parents(), &offsets, local, root);
    COCO_FROM_SMPL.map(|src| match src {
        CocoSource::Joint(j) => posed.positions[j],
        CocoSource::Offset(j, off) => {
            let s = if j == PELVIS { bone_scale[1] } else { bone_scale[j] };
            add(posed.positions[j], quat_rotate(posed.global[j], off.map(|v| v * s)))
        }
    })
}
