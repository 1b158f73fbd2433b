//! Forward kinematics in plain Rust (any tree, quaternions), reading the SMPL-24 parents and rest
//! offsets from [`super::smpl`]. The root translation is the world position of joint 0 (the pelvis).

use super::rotation::{add, quat_mul, quat_rotate, Quat, Vec3};
use super::smpl::{self, NUM_JOINTS};

/// Global rotations and positions of a posed tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Posed {
    pub global: Vec<Quat>,
    pub positions: Vec<Vec3>,
}

/// Generic FK. `parents[j] < j` for every non-root joint; `offsets[j]` is joint `j` relative to
/// its parent in the parent's rest frame (ignored for roots, which sit at `root`).
pub fn forward_kinematics(parents: &[Option<usize>], offsets: &[Vec3], local: &[Quat], root: Vec3) -> Posed {
    let n = parents.len().min(offsets.len()).min(local.len());
    let mut global = Vec::with_capacity(n);
    let mut positions = Vec::with_capacity(n);
    for j in 0..n {
        match parents[j].filter(|&p| p < j) {
            Some(p) => {
                global.push(quat_mul(global[p], local[j]));
                positions.push(add(positions[p], quat_rotate(global[p], offsets[j])));
            }
            None => {
                global.push(local[j]);
                positions.push(root);
            }
        }
    }
    Posed { global, positions }
}

/// SMPL-24 FK: local quaternions and pelvis position to joint positions.
pub fn smpl_fk(local: &[Quat; NUM_JOINTS], root: Vec3) -> [Vec3; NUM_JOINTS] {
    smpl_fk_posed(local, root).1
}

/// SMPL-24 FK returning global rotations too.
pub fn smpl_fk_posed(local: &[Quat; NUM_JOINTS], root: Vec3) -> ([Quat; NUM_JOINTS], [Vec3; NUM_JOINTS]) {
    let posed = forward_kinematics(&smpl::parents(), &smpl::rest_offsets(), local, root);
    (std::array::from_fn(|j| posed.global[j]), std::array::from_fn(|j| posed.positions[j]))
}
