//! Motion frames → BVH on the SMPL-24 skeleton (right-handed, Y up, metres): the root has
//! `Xposition Yposition Zposition Zrotation Xrotation Yrotation`, every other joint
//! `Zrotation Xrotation Yrotation` (R = Rz·Rx·Ry, degrees), offsets are the SMPL rest offsets,
//! leaves get a zero-length End Site.
use crate::data::bvh::{Bvh, Channel, Joint};
use crate::skeleton::rotation::quat_to_zxy_degrees;
use crate::skeleton::smpl::{self, JOINT_NAMES, NUM_JOINTS};

use super::format::MotionFrame;

/// SMPL joint indices in depth-first (BVH file) order.
pub fn dfs_order() -> Vec<usize> {
    fn visit(j: usize, out: &mut Vec<usize>) {
        out.push(j);
        for c in (0..NUM_JOINTS).filter(|&c| smpl::parent(c) == Some(j)) {
            visit(c, out);
        }
    }
    let mut out = Vec::with_capacity(NUM_JOINTS);
    visit(0, &mut out);
    out
}

/// The SMPL-24 hierarchy as BVH joints, in [`dfs_order`] (BVH files list joints depth first).
pub fn smpl_joints() -> Vec<Joint> {
    let offsets = smpl::rest_offsets();
    let order = dfs_order();
    let rot = vec![Channel::Zrotation, Channel::Xrotation, Channel::Yrotation];
    order
        .iter()
        .map(|&j| {
            let parent = smpl::parent(j).and_then(|p| order.iter().position(|&o| o == p));
            let channels = if parent.is_none() {
                [vec![Channel::Xposition, Channel::Yposition, Channel::Zposition], rot.clone()].concat()
            } else {
                rot.clone()
            };
            let leaf = !(0..NUM_JOINTS).any(|c| smpl::parent(c) == Some(j));
            Joint { name: JOINT_NAMES[j].into(), parent, offset: offsets[j], channels, end_site: leaf.then_some([0.0; 3]) }
        })
        .collect()
}

/// A BVH clip of `frames` at `fps`.
pub fn to_bvh(frames: &[MotionFrame], fps: f64) -> Bvh {
    let order = dfs_order();
    let rows = frames
        .iter()
        .map(|f| {
            let mut row = Vec::with_capacity(3 + 3 * NUM_JOINTS);
            row.extend_from_slice(&f.root);
            for &j in &order {
                row.extend_from_slice(&quat_to_zxy_degrees(f.rotations[j]));
            }
            row
        })
        .collect();
    Bvh { joints: smpl_joints(), frame_time: 1.0 / fps, frames: rows }
}
