//! The SMPL-24 → humanoid bone table shared by the VMC ([`super::unity`]) and VRM Animation
//! ([`super::vrma`]) outputs: Unity HumanBodyBones and VRM 1.0 names, the bone tree with or
//! without UpperChest, composed local rotations and rest offsets (SMPL frame, metres).

use crate::skeleton::rotation::{quat_mul, sub, Quat, Vec3};
use crate::skeleton::smpl::{self, NUM_JOINTS, REST_JOINTS};

/// One humanoid bone driven by an SMPL joint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanBone {
    /// SMPL joint index.
    pub smpl: usize,
    /// Unity `HumanBodyBones` name (VMC).
    pub unity: &'static str,
    /// VRM 1.0 humanoid name (lowerCamelCase).
    pub vrm: &'static str,
}

const fn hb(smpl: usize, unity: &'static str, vrm: &'static str) -> HumanBone {
    HumanBone { smpl, unity, vrm }
}

/// Every SMPL joint that has a humanoid bone, in SMPL order (parents first). The SMPL hands
/// (22, 23) have none. Name traps: SMPL "collar" is Unity "Shoulder", SMPL "shoulder" is
/// Unity "UpperArm".
pub const HUMAN_BONES: [HumanBone; 22] = [
    hb(0, "Hips", "hips"),
    hb(1, "LeftUpperLeg", "leftUpperLeg"),
    hb(2, "RightUpperLeg", "rightUpperLeg"),
    hb(3, "Spine", "spine"),
    hb(4, "LeftLowerLeg", "leftLowerLeg"),
    hb(5, "RightLowerLeg", "rightLowerLeg"),
    hb(6, "Chest", "chest"),
    hb(7, "LeftFoot", "leftFoot"),
    hb(8, "RightFoot", "rightFoot"),
    hb(9, "UpperChest", "upperChest"),
    hb(10, "LeftToes", "leftToes"),
    hb(11, "RightToes", "rightToes"),
    hb(12, "Neck", "neck"),
    hb(13, "LeftShoulder", "leftShoulder"),
    hb(14, "RightShoulder", "rightShoulder"),
    hb(15, "Head", "head"),
    hb(16, "LeftUpperArm", "leftUpperArm"),
    hb(17, "RightUpperArm", "rightUpperArm"),
    hb(18, "LeftLowerArm", "leftLowerArm"),
    hb(19, "RightLowerArm", "rightLowerArm"),
    hb(20, "LeftHand", "leftHand"),
    hb(21, "RightHand", "rightHand"),
];

/// SMPL index of spine3, the joint that is UpperChest or folds into Chest.
const SPINE3: usize = 9;
/// SMPL index of spine2 (Chest).
const SPINE2: usize = 6;

/// The bones sent for an avatar with or without an UpperChest bone. Without one (the safe
/// default: many avatars lack it) Chest carries spine2·spine3 and UpperChest is not sent.
pub fn bones(upper_chest: bool) -> Vec<HumanBone> {
    HUMAN_BONES.into_iter().filter(|b| upper_chest || b.smpl != SPINE3).collect()
}

/// The humanoid parent (an SMPL index) of SMPL joint `j`; spine3's children hang from spine2
/// when there is no UpperChest.
pub fn parent(j: usize, upper_chest: bool) -> Option<usize> {
    match smpl::parent(j)? {
        SPINE3 if !upper_chest => Some(SPINE2),
        p => Some(p),
    }
}

/// Local rotation of the bone on SMPL joint `j` (SMPL frame): Chest composes spine3 in when
/// there is no UpperChest.
pub fn local_rotation(rotations: &[Quat; NUM_JOINTS], j: usize, upper_chest: bool) -> Quat {
    if j == SPINE2 && !upper_chest {
        quat_mul(rotations[SPINE2], rotations[SPINE3])
    } else {
        rotations[j]
    }
}

/// Rest offset of SMPL joint `j` from its humanoid parent (SMPL frame, metres). The hips get
/// their rest position above the floor: [`rest_hips`].
pub fn rest_offset(j: usize, upper_chest: bool) -> Vec3 {
    match parent(j, upper_chest) {
        Some(p) => sub(REST_JOINTS[j], REST_JOINTS[p]),
        None => rest_hips(),
    }
}

/// SMPL rest pelvis position with the feet on the floor (lowest foot joint at y = 0).
pub fn rest_hips() -> Vec3 {
    let floor = [7, 8, 10, 11].iter().map(|&j| REST_JOINTS[j][1]).fold(f32::INFINITY, f32::min);
    [REST_JOINTS[0][0], REST_JOINTS[0][1] - floor, REST_JOINTS[0][2]]
}

/// SMPL hips height above the floor in the rest pose (metres).
pub fn smpl_hips_height() -> f32 {
    rest_hips()[1]
}
