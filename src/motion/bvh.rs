//! SMPL-24 as a BVH skeleton, the one hierarchy every BVH mocapd writes uses (`mocapd lift --out
//! x.bvh` and the `[record] bvh` recorder): right-handed, Y up, metres or centimetres; the SMPL
//! rest offsets as OFFSETs; `ROOT Hips` (the pelvis) with `Xposition Yposition Zposition
//! Zrotation Xrotation Yrotation`, every other joint by its SMPL name with `Zrotation Xrotation
//! Yrotation` (R = Rz·Rx·Ry, degrees); End Sites on the leaves (toes forward, head up, hands
//! along the arm). [`to_clip`] reads such a file back.
use crate::bvh::{write, Bvh, Channel, Joint};
use crate::skeleton::rotation::{quat_to_zxy_degrees, Vec3};
use crate::skeleton::smpl::{self, JOINT_NAMES, NUM_JOINTS};

use super::clip::Motion;
use super::frame::MotionFrame;

/// The root joint's name in the file (SMPL calls it `pelvis`).
pub const ROOT_NAME: &str = "Hips";

/// Length unit of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Units {
    #[default]
    Metres,
    Centimetres,
}

impl Units {
    pub fn scale(self) -> f32 {
        match self {
            Units::Metres => 1.0,
            Units::Centimetres => 100.0,
        }
    }
}

/// End Site offsets (metres) of the SMPL leaves: toes forward, head up, hands along the arm.
fn end_site(j: usize) -> Option<Vec3> {
    match j {
        10 | 11 => Some([0.0, 0.0, 0.05]),
        15 => Some([0.0, 0.1, 0.0]),
        22 => Some([0.08, 0.0, 0.0]),
        23 => Some([-0.08, 0.0, 0.0]),
        _ => None,
    }
}

/// The hierarchy, joints in SMPL order (the writer emits children depth-first), no frames.
pub fn skeleton(units: Units, fps: f32) -> Bvh {
    let s = units.scale();
    let offsets = smpl::rest_offsets();
    let rot = vec![Channel::Zrotation, Channel::Xrotation, Channel::Yrotation];
    let joints = (0..NUM_JOINTS)
        .map(|j| Joint {
            name: if j == 0 { ROOT_NAME.to_string() } else { JOINT_NAMES[j].to_string() },
            parent: smpl::parent(j),
            offset: offsets[j].map(|v| v * s),
            channels: if j == 0 {
                [Channel::Xposition, Channel::Yposition, Channel::Zposition].into_iter().chain(rot.clone()).collect()
            } else {
                rot.clone()
            },
            end_site: end_site(j).map(|e| e.map(|v| v * s)),
        })
        .collect();
    Bvh { joints, frame_time: 1.0 / fps.max(1e-3) as f64, frames: Vec::new() }
}

/// One frame's channel values in the file's joint order `order` ([`write::write_order`]).
pub fn frame_values(f: &MotionFrame, order: &[usize], units: Units) -> Vec<f32> {
    let mut values: Vec<f32> = f.root.map(|v| v * units.scale()).to_vec();
    for &j in order {
        values.extend(quat_to_zxy_degrees(f.rotations[j]));
    }
    values
}

/// A whole BVH clip of `frames` at `fps`.
pub fn to_bvh(frames: &[MotionFrame], fps: f64, units: Units) -> Bvh {
    let mut bvh = skeleton(units, fps as f32);
    bvh.frame_time = 1.0 / fps;
    let order = write::write_order(&bvh);
    bvh.frames = frames.iter().map(|f| frame_values(f, &order, units)).collect();
    bvh
}

/// Whether `bvh` has mocapd's SMPL-24 hierarchy (joint names and parents, any joint order).
pub fn is_smpl24(bvh: &Bvh) -> bool {
    bvh.joints.len() == NUM_JOINTS
        && (0..NUM_JOINTS).all(|j| {
            let name = if j == 0 { ROOT_NAME } else { JOINT_NAMES[j] };
            bvh.joint_index(name).is_some_and(|k| {
                bvh.joints[k].parent.map(|p| bvh.joints[p].name.as_str())
                    == smpl::parent(j).map(|p| if p == 0 { ROOT_NAME } else { JOINT_NAMES[p] })
            })
        })
}

/// Reads a file written with [`skeleton`] back into a clip (`None` when it is not one); the
/// unit is taken from the pelvis → left-hip offset.
pub fn to_clip(bvh: &Bvh) -> Option<Motion> {
    if !is_smpl24(bvh) {
        return None;
    }
    let index: Vec<usize> = (0..NUM_JOINTS).filter_map(|j| bvh.joint_index(if j == 0 { ROOT_NAME } else { JOINT_NAMES[j] })).collect();
    let scale = length_scale(bvh)?;
    let mut m = Motion { fps: bvh.fps() as f32, root: Vec::new(), rotations: Vec::new() };
    for frame in 0..bvh.frames.len() {
        let (t, q) = bvh.local_pose(frame)?;
        m.root.push(t[index[0]].map(|v| v / scale.max(1e-6)));
        m.rotations.push(std::array::from_fn(|j| q[index[j]]));
    }
    m.make_continuous();
    Some(m)
}

/// The length unit of a file written with [`skeleton`] (from its pelvis → left-hip offset);
/// `None` when it is not mocapd's SMPL-24 skeleton in metres or centimetres.
pub fn units_of(bvh: &Bvh) -> Option<Units> {
    if !is_smpl24(bvh) {
        return None;
    }
    let scale = length_scale(bvh)?;
    [Units::Metres, Units::Centimetres].into_iter().find(|u| (scale / u.scale() - 1.0).abs() < 0.01)
}

/// File length units per metre, from the pelvis → left-hip offset against SMPL's.
fn length_scale(bvh: &Bvh) -> Option<f32> {
    let k = bvh.joint_index(JOINT_NAMES[1])?;
    let rest = crate::skeleton::rotation::norm(smpl::rest_offsets()[1]);
    Some(crate::skeleton::rotation::norm(bvh.joints[k].offset) / rest.max(1e-6))
}
