//! The SMPL-24 skeleton table: joint names, parents and rest joint positions (one definition
//! shared by the plain and the candle forward kinematics).
//!
//! Convention: right-handed, Y up, the subject faces +Z, subject's left = +X. The rest pose is a
//! T-pose with identity local rotations. Positions are the SMPL-H mean-shape joints (metres).

use super::rotation::Vec3;

/// Number of SMPL body joints.
pub const NUM_JOINTS: usize = 24;

/// Joint names in SMPL order.
pub const JOINT_NAMES: [&str; NUM_JOINTS] = [
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hand",
    "right_hand",
];

/// Parent of each joint; `-1` for the root (pelvis). Every parent index is smaller than its child.
pub const PARENTS: [i32; NUM_JOINTS] = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21];

/// Rest (T-pose) joint positions in metres.
pub const REST_JOINTS: [Vec3; NUM_JOINTS] = [
    [-0.0018, -0.2233, 0.0282],
    [0.0677, -0.3147, 0.0214],
    [-0.0695, -0.3139, 0.0239],
    [-0.0043, -0.1144, 0.0015],
    [0.1020, -0.6899, 0.0169],
    [-0.1078, -0.6964, 0.0150],
    [0.0012, 0.0208, 0.0026],
    [0.0884, -1.0879, -0.0268],
    [-0.0920, -1.0948, -0.0273],
    [0.0026, 0.0737, 0.0280],
    [0.1148, -1.1437, 0.0925],
    [-0.1174, -1.1430, 0.0961],
    [-0.0002, 0.2876, -0.0148],
    [0.0815, 0.1955, -0.0060],
    [-0.0791, 0.1926, -0.0106],
    [0.0050, 0.3526, 0.0365],
    [0.1724, 0.2260, -0.0149],
    [-0.1752, 0.2251, -0.0197],
    [0.4321, 0.2132, -0.0424],
    [-0.4289, 0.2118, -0.0411],
    [0.6813, 0.2222, -0.0435],
    [-0.6842, 0.2196, -0.0467],
    [0.7653, 0.2140, -0.0585],
    [-0.7688, 0.2134, -0.0570],
];

/// Left/right joint pairs (for mirroring).
pub const LEFT_RIGHT: [(usize, usize); 9] = [(1, 2), (4, 5), (7, 8), (10, 11), (13, 14), (16, 17), (18, 19), (20, 21), (22, 23)];

/// Parent of joint `j`, `None` for the root.
pub fn parent(j: usize) -> Option<usize> {
    PARENTS.get(j).and_then(|&p| usize::try_from(p).ok())
}

/// Index of a joint by its SMPL name.
pub fn joint_index(name: &str) -> Option<usize> {
    JOINT_NAMES.iter().position(|n| *n == name)
}

/// Parents as `Option<usize>` (the form the generic FK takes).
pub fn parents() -> [Option<usize>; NUM_JOINTS] {
    std::array::from_fn(parent)
}

/// Rest offsets: joint position minus parent position; the root's offset is zero (the root
/// translation is the pelvis position itself).
pub fn rest_offsets() -> [Vec3; NUM_JOINTS] {
    std::array::from_fn(|j| match parent(j) {
        Some(p) => std::array::from_fn(|k| REST_JOINTS[j][k] - REST_JOINTS[p][k]),
        None => [0.0; 3],
    })
}

/// Rest bone lengths (distance to the parent; 0 for the root).
pub fn rest_bone_lengths() -> [f32; NUM_JOINTS] {
    rest_offsets().map(|o| (o[0] * o[0] + o[1] * o[1] + o[2] * o[2]).sqrt())
}

/// The main child of each joint (the one that defines its bone direction); `None` for leaves.
pub fn main_child(j: usize) -> Option<usize> {
    match j {
        0 => Some(3),
        9 => Some(12),
        _ => (0..NUM_JOINTS).find(|&c| parent(c) == Some(j)),
    }
}
