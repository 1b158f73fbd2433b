//! Forward kinematics: plain Rust (any tree, quaternions; for the daemon and data tools) and
//! batched candle tensors (SMPL-24, rotation matrices; for training losses). Both read the
//! parents and rest offsets from [`super::smpl`].
//!
//! The root translation is the world position of joint 0 (the pelvis).

use candle_core::{Result, Tensor, D};

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

/// Batched SMPL-24 FK: local rotation matrices `[B, F, 24, 3, 3]` and root translation
/// `[B, F, 3]` to joint positions `[B, F, 24, 3]`.
pub fn smpl_fk_tensor(local: &Tensor, root: &Tensor) -> Result<Tensor> {
    let offsets = smpl::rest_offsets();
    let flat: Vec<f32> = offsets.iter().flatten().copied().collect();
    let offsets = Tensor::from_vec(flat, (NUM_JOINTS, 3, 1), local.device())?.to_dtype(local.dtype())?;
    let mut global: Vec<Tensor> = Vec::with_capacity(NUM_JOINTS);
    let mut pos: Vec<Tensor> = Vec::with_capacity(NUM_JOINTS);
    for j in 0..NUM_JOINTS {
        let r = local.narrow(2, j, 1)?.squeeze(2)?; // [B, F, 3, 3]
        match smpl::parent(j) {
            None => {
                global.push(r);
                pos.push(root.clone());
            }
            Some(p) => {
                let off = offsets.get(j)?; // [3, 1]
                let step = global[p].broadcast_matmul(&off)?.squeeze(D::Minus1)?; // [B, F, 3]
                pos.push((&pos[p] + step)?);
                global.push(global[p].matmul(&r)?);
            }
        }
    }
    Tensor::stack(&pos, 2)
}
