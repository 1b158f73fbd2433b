//! Retargeting a source skeleton (BVH or any tree of local rotations) onto SMPL-24 by joint
//! names ([`super::rigs`]): unit and up-axis conversion, facing alignment (source rest faces
//! +Z, left = +X), per-joint rest alignment (the rotation taking each SMPL rest bone direction
//! onto the source's), swing correction from the source's world bone vectors, resampling to
//! 30 fps and floor alignment. The result uses SMPL rest offsets, so bone lengths are SMPL's.

use super::rigs::{RigMap, UpAxis};
use crate::bvh::Bvh;
use crate::motion::clip::FOOT_JOINTS;
use crate::motion::{Motion, MotionError};
use crate::skeleton::fk::{forward_kinematics, smpl_fk};
use crate::skeleton::rotation::*;
use crate::skeleton::smpl::{self, main_child, NUM_JOINTS, REST_JOINTS};

/// Output frame rate of [`retarget`].
pub const TARGET_FPS: f32 = 30.0;

/// Why a clip could not be retargeted.
#[derive(Debug, thiserror::Error)]
pub enum RetargetError {
    #[error("retarget map `{rig}` names joint `{joint}`, which the source skeleton does not have")]
    UnknownJoint { rig: &'static str, joint: &'static str },
    #[error("retarget map `{rig}` does not map the SMPL pelvis")]
    NoRoot { rig: &'static str },
    #[error("empty clip: the source has no frames")]
    EmptyClip,
    #[error("source frame {frame} has {found} joints, the skeleton has {expected}")]
    FrameShape { frame: usize, expected: usize, found: usize },
    #[error(transparent)]
    Motion(#[from] MotionError),
}

/// A source clip: a joint tree with rest offsets and local pose per frame.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceClip {
    pub names: Vec<String>,
    pub parents: Vec<Option<usize>>,
    pub rest: Vec<Vec3>,
    pub fps: f32,
    /// Per frame: local translations and local rotations of every joint.
    pub frames: Vec<(Vec<Vec3>, Vec<Quat>)>,
}

impl SourceClip {
    /// From a BVH; each End Site becomes a joint named `<joint>/End`.
    pub fn from_bvh(bvh: &Bvh) -> SourceClip {
        let mut names: Vec<String> = bvh.joints.iter().map(|j| j.name.clone()).collect();
        let mut parents = bvh.parents();
        let mut rest = bvh.rest_offsets();
        let ends: Vec<(usize, Vec3)> = bvh.joints.iter().enumerate().filter_map(|(i, j)| j.end_site.map(|e| (i, e))).collect();
        for (i, e) in &ends {
            names.push(format!("{}/End", bvh.joints[*i].name));
            parents.push(Some(*i));
            rest.push(*e);
        }
        let frames = (0..bvh.frames.len())
            .filter_map(|f| bvh.local_pose(f))
            .map(|(mut t, mut r)| {
                t.extend(ends.iter().map(|(_, e)| *e));
                r.extend(ends.iter().map(|_| QUAT_IDENTITY));
                (t, r)
            })
            .collect();
        SourceClip { names, parents, rest, fps: bvh.fps() as f32, frames }
    }
}

/// How one SMPL joint gets its global rotation.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// No source joint: local identity.
    Unmapped,
    /// Rotation fully from two source directions (pelvis, spine3).
    Frame { src: usize, child: usize, left: usize, right: usize, dt_p: Vec3, dt_s: Vec3 },
    /// Source global times rest alignment, then swung onto the source bone vector.
    Bone { src: usize, child: usize, dt: Vec3, align: Quat },
    /// A leaf: source global times the nearest ancestor's rest alignment.
    Leaf { src: usize, align: Quat },
}

/// Retarget a BVH clip with `rig`, resampled to 30 fps, feet on the floor.
pub fn retarget_bvh(bvh: &Bvh, rig: &RigMap) -> Result<Motion, RetargetError> {
    retarget(&SourceClip::from_bvh(bvh), rig)
}

/// Retarget a source clip with `rig`, resampled to 30 fps, feet on the floor.
pub fn retarget(clip: &SourceClip, rig: &RigMap) -> Result<Motion, RetargetError> {
    let mut motion = retarget_native(clip, rig)?.resample(TARGET_FPS)?;
    motion.make_continuous();
    motion.align_floor();
    Ok(motion)
}

/// Retarget at the source frame rate, without floor alignment.
pub fn retarget_native(clip: &SourceClip, rig: &RigMap) -> Result<Motion, RetargetError> {
    let src = map_joints(clip, rig)?;
    let root = src[0].ok_or(RetargetError::NoRoot { rig: rig.name })?;
    if clip.frames.len() <= rig.skip_frames {
        return Err(RetargetError::EmptyClip);
    }
    let n = clip.names.len();
    let up_fix = match rig.up {
        UpAxis::Y => QUAT_IDENTITY,
        UpAxis::Z => axis_angle_to_quat([-std::f32::consts::FRAC_PI_2, 0.0, 0.0]),
    };
    let rest_raw = forward_kinematics(&clip.parents, &clip.rest, &vec![QUAT_IDENTITY; n], [0.0; 3]).positions;
    let up_rest: Vec<Vec3> = rest_raw.iter().map(|p| scale(quat_rotate(up_fix, *p), rig.scale)).collect();
    let pair = |a: usize, b: usize| Some(sub(up_rest[src[a]?], up_rest[src[b]?]));
    let left = pair(1, 2).or_else(|| pair(16, 17)).unwrap_or([1.0, 0.0, 0.0]);
    let facing = quat_from_frames([0.0, 1.0, 0.0], [left[0], 0.0, left[2]], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]);
    let world = quat_mul(facing, up_fix);
    let rest_p: Vec<Vec3> = up_rest.iter().map(|p| quat_rotate(facing, *p)).collect();
    let plans = make_plans(&src, &rest_p);
    let leg = |p: &dyn Fn(usize) -> Option<Vec3>| -> Option<f32> {
        let (h, k, a) = (p(1)?, p(4)?, p(7)?);
        Some(norm(sub(h, k)) + norm(sub(k, a)))
    };
    let smpl_leg = leg(&|j| Some(REST_JOINTS[j]));
    let src_leg = leg(&|j| src[j].map(|i| rest_p[i]));
    let root_scale = match (smpl_leg, src_leg) {
        (Some(a), Some(b)) if b > 1e-4 => a / b,
        _ => 1.0,
    };
    let mut motion = Motion { fps: clip.fps, root: Vec::new(), rotations: Vec::new() };
    for (f, (trans, rots)) in clip.frames.iter().enumerate().skip(rig.skip_frames) {
        if trans.len() != n || rots.len() != n {
            return Err(RetargetError::FrameShape { frame: f, expected: n, found: trans.len().min(rots.len()) });
        }
        let posed = forward_kinematics(&clip.parents, trans, rots, trans[0]);
        let p: Vec<Vec3> = posed.positions.iter().map(|x| quat_rotate(world, scale(*x, rig.scale))).collect();
        let g: Vec<Quat> = posed.global.iter().map(|q| quat_mul(quat_mul(world, *q), quat_conj(world))).collect();
        let mut gt = [QUAT_IDENTITY; NUM_JOINTS];
        let mut local = [QUAT_IDENTITY; NUM_JOINTS];
        for j in 0..NUM_JOINTS {
            let parent_g = smpl::parent(j).map_or(QUAT_IDENTITY, |pj| gt[pj]);
            gt[j] = match plans[j] {
                Plan::Unmapped => parent_g,
                Plan::Frame { src, child, left, right, dt_p, dt_s } => {
                    quat_from_frames(dt_p, dt_s, sub(p[child], p[src]), sub(p[left], p[right]))
                }
                Plan::Bone { src, child, dt, align } => {
                    let g0 = quat_mul(g[src], align);
                    quat_mul(quat_between(quat_rotate(g0, dt), sub(p[child], p[src])), g0)
                }
                Plan::Leaf { src, align } => quat_mul(g[src], align),
            };
            local[j] = quat_normalize(quat_mul(quat_conj(parent_g), gt[j]));
        }
        for &(first, last) in rig.spread {
            spread_chain(&mut local, first, last);
        }
        motion.root.push(scale(p[root], root_scale));
        motion.rotations.push(local);
    }
    motion.make_continuous();
    Ok(motion)
}

/// The source joint of each SMPL joint (`None`: not mapped).
fn map_joints(clip: &SourceClip, rig: &RigMap) -> Result<[Option<usize>; NUM_JOINTS], RetargetError> {
    let mut src: [Option<usize>; NUM_JOINTS] = [None; NUM_JOINTS];
    for &(j, name) in rig.joints {
        let i = clip.names.iter().position(|n| n == name);
        src[j] = Some(i.ok_or(RetargetError::UnknownJoint { rig: rig.name, joint: name })?);
    }
    Ok(src)
}

/// The source's own bone lengths on the SMPL skeleton, metres (index = SMPL joint, the length
/// of the bone to its parent; 0 for the pelvis): a retargeted take keeps SMPL's rest offsets
/// ([`Motion`] has no skeleton of its own), so the performer's (or the retarget character's)
/// proportions are kept here, as take metadata. Measured on the source's rest pose (the OFFSETs,
/// all rotations identity). A mapped joint's bone is the distance from its source joint to the
/// source joint of its nearest mapped SMPL ancestor; where SMPL joints in between have no
/// source joint (spine2 of [`super::rigs::CMU_DAZ`], the DeepMimic spine and collars), that
/// distance is shared among their bones in proportion to SMPL's rest lengths; bones below the
/// last mapped joint of a chain (e.g. the DeepMimic head) are SMPL's, scaled by the source's leg
/// length over SMPL's. A length is 0 where the source puts two mapped joints at one place (the
/// cgspeed CMU skeletons' `LowerBack`/`lowerback` at the hips, the hand at the wrist). Pose a
/// take on these lengths with [`fk_with_bones`].
pub fn bone_lengths(clip: &SourceClip, rig: &RigMap) -> Result<[f32; NUM_JOINTS], RetargetError> {
    let src = map_joints(clip, rig)?;
    if src[0].is_none() {
        return Err(RetargetError::NoRoot { rig: rig.name });
    }
    let n = clip.names.len();
    let rest: Vec<Vec3> = forward_kinematics(&clip.parents, &clip.rest, &vec![QUAT_IDENTITY; n], [0.0; 3])
        .positions
        .iter()
        .map(|p| scale(*p, rig.scale))
        .collect();
    let smpl_len = smpl::rest_bone_lengths();
    let leg = |p: &dyn Fn(usize) -> Option<Vec3>| -> Option<f32> {
        let (h, k, a) = (p(1)?, p(4)?, p(7)?);
        Some(norm(sub(h, k)) + norm(sub(k, a)))
    };
    let ratio = match (leg(&|j| src[j].map(|i| rest[i])), leg(&|j| Some(REST_JOINTS[j]))) {
        (Some(a), Some(b)) if a > 1e-4 && b > 1e-4 => a / b,
        _ => 1.0,
    };
    let mut out = [f32::NAN; NUM_JOINTS];
    out[0] = 0.0;
    for j in 1..NUM_JOINTS {
        let Some(sj) = src[j] else { continue };
        let mut path = vec![j];
        let mut a = smpl::parent(j).unwrap_or(0);
        while src[a].is_none() {
            path.push(a);
            a = smpl::parent(a).unwrap_or(0);
        }
        let Some(sa) = src[a] else { continue };
        let length = norm(sub(rest[sj], rest[sa]));
        let total: f32 = path.iter().map(|&k| smpl_len[k]).sum();
        for &k in &path {
            if out[k].is_nan() {
                out[k] = if total > 1e-6 { smpl_len[k] * length / total } else { length / path.len() as f32 };
            }
        }
    }
    for j in 1..NUM_JOINTS {
        if out[j].is_nan() {
            out[j] = smpl_len[j] * ratio;
        }
    }
    Ok(out)
}

/// Joint positions of one frame posed on a take's own bone lengths ([`bone_lengths`]): SMPL's
/// rest bone directions, scaled to `bones`.
pub fn fk_with_bones(rotations: &[Quat; NUM_JOINTS], root: Vec3, bones: &[f32; NUM_JOINTS]) -> [Vec3; NUM_JOINTS] {
    let rest_len = smpl::rest_bone_lengths();
    let offsets: Vec<Vec3> = smpl::rest_offsets()
        .iter()
        .enumerate()
        .map(|(j, o)| if rest_len[j] > 1e-9 { scale(*o, bones[j] / rest_len[j]) } else { *o })
        .collect();
    let p = forward_kinematics(&smpl::parents(), &offsets, rotations, root).positions;
    std::array::from_fn(|j| p[j])
}

/// Limits of [`check`]: what a retargeted take must meet to be used for training.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckLimits {
    /// Fewest frames (30 fps).
    pub min_frames: usize,
    /// Largest deviation of a posed bone from SMPL's rest length, metres (unit quaternions).
    pub bone_tolerance: f32,
    /// Largest distance of the lowest foot joint over the clip from the floor (height 0), metres.
    pub floor_tolerance: f32,
    /// Fewest still-foot frames (a toe slower than 0.1 m/s) with that foot's ankle or toe within
    /// 10 cm of the floor, as a fraction of all still-foot frames. Low on purpose: climbing,
    /// hanging and uneven-terrain takes stand still above the floor (13 % to 30 % in the CMU
    /// corpus); a glitch frame that puts a foot far below the floor for the whole clip gives
    /// about 0 %.
    pub min_grounded: f32,
    /// Fastest local rotation of any joint between two frames, rad/s (a flip is about 94 rad/s
    /// at 30 fps).
    pub max_angular_speed: f32,
    /// SMPL joints the angular-speed limit leaves out (the hands: leaf joints that copy noisy
    /// source finger joints).
    pub exempt: Vec<usize>,
    /// Fastest pelvis motion between two frames, m/s (a teleporting root track).
    pub max_root_speed: f32,
}

impl Default for CheckLimits {
    fn default() -> Self {
        CheckLimits {
            min_frames: 10,
            bone_tolerance: 1e-3,
            floor_tolerance: 1e-4,
            min_grounded: 0.1,
            max_angular_speed: 60.0,
            exempt: vec![22, 23],
            max_root_speed: 12.0,
        }
    }
}

/// What [`check`] measured on a take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckStats {
    pub seconds: f32,
    /// Still-foot frames with a foot on the floor, fraction (1 when there are none).
    pub grounded: f32,
    /// Fastest local rotation (rad/s), the joint and the frame.
    pub max_angular_speed: (f32, usize, usize),
    /// Fastest pelvis motion, m/s.
    pub max_root_speed: f32,
}

/// The retarget checks every real take must pass (the ones the retarget tests hold the fetched
/// sources to): at 30 fps, long enough, every posed bone at SMPL's rest length (unit
/// quaternions), the lowest foot on the floor, the feet on the floor when still, no joint
/// turning faster than the limit (no flips), no root jump. `Err` says why (every failed check,
/// joined by `; `), for the build's list of rejected takes.
pub fn check(m: &Motion, limits: &CheckLimits) -> Result<CheckStats, String> {
    if (m.fps - TARGET_FPS).abs() > 1e-3 {
        return Err(format!("{} fps, expected {TARGET_FPS}", m.fps));
    }
    if m.len() < limits.min_frames {
        return Err(format!("too short: {} frames, needs at least {}", m.len(), limits.min_frames));
    }
    let rest = smpl::rest_bone_lengths();
    let mut pos = Vec::with_capacity(m.len());
    for f in 0..m.len() {
        let p = smpl_fk(&m.rotations[f], m.root[f]);
        if let Some(bad) = p.iter().position(|x| !x.iter().all(|v| v.is_finite())) {
            return Err(format!("joint {bad} ({}) is not finite at frame {f}", smpl::JOINT_NAMES[bad]));
        }
        for j in 1..NUM_JOINTS {
            let len = norm(sub(p[j], p[smpl::parent(j).unwrap_or(0)]));
            if (len - rest[j]).abs() > limits.bone_tolerance {
                return Err(format!("bone of joint {j} ({}) is {len:.4} m at frame {f}, SMPL rest {:.4} m", smpl::JOINT_NAMES[j], rest[j]));
            }
        }
        pos.push(p);
    }
    let lowest = pos.iter().flat_map(|p| FOOT_JOINTS.map(|j| p[j][1])).fold(f32::INFINITY, f32::min);
    if lowest.abs() > limits.floor_tolerance {
        return Err(format!("feet not on the floor: the lowest foot joint is at {lowest:.4} m"));
    }
    let (mut still, mut grounded) = (0usize, 0usize);
    let mut max_w = (0.0f32, 0, 0);
    let mut max_v = 0.0f32;
    for f in 1..m.len() {
        for foot in [10, 11] {
            if norm(sub(pos[f][foot], pos[f - 1][foot])) * m.fps < 0.1 {
                still += 1;
                grounded += (pos[f][foot][1].min(pos[f][foot - 3][1]) < 0.10) as usize;
            }
        }
        for j in (0..NUM_JOINTS).filter(|j| !limits.exempt.contains(j)) {
            let w = quat_angle(m.rotations[f - 1][j], m.rotations[f][j]) * m.fps;
            if w > max_w.0 {
                max_w = (w, j, f);
            }
        }
        max_v = max_v.max(norm(sub(m.root[f], m.root[f - 1])) * m.fps);
    }
    let ground = if still == 0 { 1.0 } else { grounded as f32 / still as f32 };
    let stats = CheckStats { seconds: m.duration(), grounded: ground, max_angular_speed: max_w, max_root_speed: max_v };
    let mut why = Vec::new();
    if max_w.0 > limits.max_angular_speed {
        let (w, j, f) = max_w;
        why.push(format!(
            "joint {j} ({}) turns at {w:.0} rad/s at frame {f} (limit {:.0}): a flip in the source",
            smpl::JOINT_NAMES[j],
            limits.max_angular_speed
        ));
    }
    if max_v > limits.max_root_speed {
        why.push(format!("the root moves at {max_v:.1} m/s (limit {:.0}): a broken root track", limits.max_root_speed));
    }
    if ground < limits.min_grounded {
        why.push(format!(
            "feet off the floor: {:.0} % of still-foot frames have a foot within 10 cm of the floor (needs {:.0} %)",
            ground * 100.0,
            limits.min_grounded * 100.0
        ));
    }
    if !why.is_empty() {
        return Err(why.join("; "));
    }
    Ok(stats)
}

/// The first mapped SMPL descendant (along main children) whose source joint is not at the
/// same rest position as `j`'s.
fn bone_child(j: usize, src: &[Option<usize>; NUM_JOINTS], rest_p: &[Vec3]) -> Option<(usize, usize)> {
    let sj = src[j]?;
    let mut c = main_child(j);
    while let Some(cj) = c {
        if let Some(sc) = src[cj] {
            if norm(sub(rest_p[sc], rest_p[sj])) > 1e-3 {
                return Some((cj, sc));
            }
        }
        c = main_child(cj);
    }
    None
}

fn make_plans(src: &[Option<usize>; NUM_JOINTS], rest_p: &[Vec3]) -> [Plan; NUM_JOINTS] {
    let mut plans = [Plan::Unmapped; NUM_JOINTS];
    let mut aligns = [QUAT_IDENTITY; NUM_JOINTS];
    for j in 0..NUM_JOINTS {
        let inherited = smpl::parent(j).map_or(QUAT_IDENTITY, |p| aligns[p]);
        let Some(sj) = src[j] else {
            aligns[j] = inherited;
            continue;
        };
        let sides = match j {
            0 => Some((1, 2)),
            9 => Some((16, 17)),
            _ => None,
        };
        let child = bone_child(j, src, rest_p);
        let side_src = sides.and_then(|(l, r)| Some((l, r, src[l]?, src[r]?)));
        plans[j] = match (child, side_src) {
            (Some((cj, sc)), Some((l, r, sl, sr))) => {
                let dt_p = sub(REST_JOINTS[cj], REST_JOINTS[j]);
                let dt_s = sub(REST_JOINTS[l], REST_JOINTS[r]);
                let ds_p = sub(rest_p[sc], rest_p[sj]);
                let ds_s = sub(rest_p[sl], rest_p[sr]);
                aligns[j] = quat_from_frames(dt_p, dt_s, ds_p, ds_s);
                Plan::Frame { src: sj, child: sc, left: sl, right: sr, dt_p, dt_s }
            }
            (Some((cj, sc)), None) => {
                let dt = sub(REST_JOINTS[cj], REST_JOINTS[j]);
                aligns[j] = quat_between(dt, sub(rest_p[sc], rest_p[sj]));
                Plan::Bone { src: sj, child: sc, dt, align: aligns[j] }
            }
            (None, _) => {
                aligns[j] = inherited;
                Plan::Leaf { src: sj, align: inherited }
            }
        };
    }
    plans
}

/// Replace the local rotations on the SMPL chain `first..=last` (along parents) by equal
/// shares of their product, so the chain bends evenly and its end keeps its global rotation.
fn spread_chain(local: &mut [Quat; NUM_JOINTS], first: usize, last: usize) {
    let mut chain = vec![last];
    while let Some(&j) = chain.last() {
        if j == first {
            break;
        }
        match smpl::parent(j) {
            Some(p) => chain.push(p),
            None => return,
        }
    }
    chain.reverse();
    let total = chain.iter().fold(QUAT_IDENTITY, |acc, &j| quat_mul(acc, local[j]));
    let share = slerp(QUAT_IDENTITY, total, 1.0 / chain.len() as f32);
    for j in chain {
        local[j] = share;
    }
}
