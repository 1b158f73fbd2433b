//! SMPL → Unity HumanBodyBones for VMC: bone names, handedness (quaternion `(x, -y, -z, w)`,
//! position `(-x, y, z)`), real local bone positions (mirrored SMPL rest offsets, or the
//! avatar's own from a `.vrm`), hips scaling and quaternion sign continuity frame to frame.

use super::humanoid::{self, HumanBone};
use super::vrm::AvatarRig;
use super::MotionFrame;
use crate::motion::frame::continuous;
use crate::skeleton::rotation::{norm, scale, sub, Quat, Vec3};

/// How SMPL maps onto the receiving avatar.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnityConfig {
    /// Send UpperChest = spine3 (only for avatars that have the bone). Default: Chest carries
    /// spine2·spine3 and no UpperChest is sent.
    pub upper_chest: bool,
    /// Avatar hips height above the floor (metres): scales the hips position by
    /// `avatar / SMPL hips height`. Defaults to the `.vrm`'s hips height when one is given.
    pub avatar_hips_height: Option<f32>,
    /// Bone positions read from the user's `.vrm` ([`super::vrm::read_vrm0`]).
    pub avatar: Option<AvatarRig>,
}

/// One bone ready for `/VMC/Ext/Bone/Pos` (Unity space: left-handed, Y up, metres).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnityBone {
    pub name: &'static str,
    /// Local position relative to the parent bone (the hips: world position).
    pub position: Vec3,
    /// Local rotation `(x, y, z, w)` relative to the parent bone.
    pub rotation: Quat,
}

/// SMPL (right-handed) quaternion to Unity (left-handed, X mirrored).
pub fn to_unity_quat(q: Quat) -> Quat {
    [q[0], -q[1], -q[2], q[3]]
}

/// SMPL position to Unity (X mirrored).
pub fn to_unity_pos(v: Vec3) -> Vec3 {
    [-v[0], v[1], v[2]]
}

/// Converts frames to Unity bones; keeps the previous rotations for sign continuity.
#[derive(Debug, Clone)]
pub struct UnityMapper {
    bones: Vec<HumanBone>,
    upper_chest: bool,
    /// Unity-space local offsets per bone (hips: rest world position, unused for sending).
    offsets: Vec<Vec3>,
    hips_scale: f32,
    prev: Vec<Option<Quat>>,
}

impl UnityMapper {
    pub fn new(cfg: &UnityConfig) -> Self {
        let bones = humanoid::bones(cfg.upper_chest);
        let offsets = bones
            .iter()
            .map(|b| {
                let smpl = to_unity_pos(humanoid::rest_offset(b.smpl, cfg.upper_chest));
                cfg.avatar.as_ref().and_then(|a| avatar_offset(a, b.smpl, cfg.upper_chest)).unwrap_or(smpl)
            })
            .collect();
        let avatar_height = cfg.avatar_hips_height.or_else(|| cfg.avatar.as_ref().and_then(|a| a.position("Hips")).map(|p| p[1]));
        let hips_scale = match avatar_height {
            Some(h) if h.is_finite() && h > 0.0 => h / humanoid::smpl_hips_height(),
            _ => 1.0,
        };
        let prev = vec![None; bones.len()];
        Self { bones, upper_chest: cfg.upper_chest, offsets, hips_scale, prev }
    }

    /// The bones this mapper emits, in send order (parents first).
    pub fn bones(&self) -> &[HumanBone] {
        &self.bones
    }

    /// Scale applied to the hips position.
    pub fn hips_scale(&self) -> f32 {
        self.hips_scale
    }

    /// Unity bones for a (sanitised) frame. Hips: rotation = global orientation, position =
    /// pelvis world position (floor-aligned) times the hips scale.
    pub fn map(&mut self, frame: &MotionFrame) -> Vec<UnityBone> {
        let mut out = Vec::with_capacity(self.bones.len());
        for (k, b) in self.bones.iter().enumerate() {
            let local = humanoid::local_rotation(&frame.rotations, b.smpl, self.upper_chest);
            let mut q = to_unity_quat(local);
            if let Some(p) = self.prev[k] {
                q = continuous(p, q);
            }
            self.prev[k] = Some(q);
            let position = if b.smpl == 0 { scale(to_unity_pos(frame.root), self.hips_scale) } else { self.offsets[k] };
            out.push(UnityBone { name: b.unity, position, rotation: q });
        }
        out
    }
}

/// Unity-space offset of SMPL joint `j` from its humanoid parent on the avatar, when the
/// avatar has both bones and they are apart.
fn avatar_offset(avatar: &AvatarRig, j: usize, upper_chest: bool) -> Option<Vec3> {
    let name = |j: usize| humanoid::HUMAN_BONES.iter().find(|b| b.smpl == j).map(|b| b.unity);
    let p = humanoid::parent(j, upper_chest)?;
    let off = sub(avatar.position(name(j)?)?, avatar.position(name(p)?)?);
    (norm(off) > 1e-5 && off.iter().all(|v| v.is_finite())).then_some(off)
}
