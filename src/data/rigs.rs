//! Joint-name tables that map source skeletons onto SMPL-24 (one table per rig family), with
//! each rig's unit scale and up axis. A name ending in `/End` means that joint's End Site.

/// Which axis is up in the source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpAxis {
    Y,
    Z,
}

/// A source rig: SMPL joint index -> source joint name.
#[derive(Debug, Clone, Copy)]
pub struct RigMap {
    pub name: &'static str,
    /// Multiply source lengths by this to get metres.
    pub scale: f32,
    pub up: UpAxis,
    /// Leading frames to drop (cgspeed CMU files open with a T-pose frame).
    pub skip_frames: usize,
    /// Chains `(first, last)` of SMPL joints whose combined local rotation is spread evenly
    /// over the chain (one source joint standing for several SMPL spine joints).
    pub spread: &'static [(usize, usize)],
    pub joints: &'static [(usize, &'static str)],
}

/// CMU (cgspeed BVH conversion): inches / 0.45. The LHipJoint/RHipJoint links are ignored.
pub const CMU: RigMap = RigMap {
    name: "cmu",
    scale: 0.0254 / 0.45,
    up: UpAxis::Y,
    skip_frames: 1,
    spread: &[],
    joints: &[
        (0, "Hips"),
        (1, "LeftUpLeg"),
        (2, "RightUpLeg"),
        (3, "LowerBack"),
        (4, "LeftLeg"),
        (5, "RightLeg"),
        (6, "Spine"),
        (7, "LeftFoot"),
        (8, "RightFoot"),
        (9, "Spine1"),
        (10, "LeftToeBase"),
        (11, "RightToeBase"),
        (12, "Neck"),
        (13, "LeftShoulder"),
        (14, "RightShoulder"),
        (15, "Head"),
        (16, "LeftArm"),
        (17, "RightArm"),
        (18, "LeftForeArm"),
        (19, "RightForeArm"),
        (20, "LeftHand"),
        (21, "RightHand"),
        (22, "LeftFingerBase"),
        (23, "RightFingerBase"),
    ],
};

/// LAFAN1 / Mixamo-like names, centimetres.
pub const LAFAN1: RigMap = RigMap {
    name: "lafan1",
    scale: 0.01,
    up: UpAxis::Y,
    skip_frames: 0,
    spread: &[],
    joints: &[
        (0, "Hips"),
        (1, "LeftUpLeg"),
        (2, "RightUpLeg"),
        (3, "Spine"),
        (4, "LeftLeg"),
        (5, "RightLeg"),
        (6, "Spine1"),
        (7, "LeftFoot"),
        (8, "RightFoot"),
        (9, "Spine2"),
        (10, "LeftToe"),
        (11, "RightToe"),
        (12, "Neck"),
        (13, "LeftShoulder"),
        (14, "RightShoulder"),
        (15, "Head"),
        (16, "LeftArm"),
        (17, "RightArm"),
        (18, "LeftForeArm"),
        (19, "RightForeArm"),
        (20, "LeftHand"),
        (21, "RightHand"),
    ],
};

/// Boxing_Toes (assimp test models), centimetres. spine2 has no source joint (local identity).
pub const BOXING: RigMap = RigMap {
    name: "boxing",
    scale: 0.01,
    up: UpAxis::Y,
    skip_frames: 0,
    spread: &[(6, 9)],
    joints: &[
        (0, "Hips"),
        (1, "LeftHip"),
        (2, "RightHip"),
        (3, "Ab"),
        (4, "LeftKnee"),
        (5, "RightKnee"),
        (7, "LeftAnkle"),
        (8, "RightAnkle"),
        (9, "Chest"),
        (10, "LeftToes"),
        (11, "RightToes"),
        (12, "Neck"),
        (13, "LeftCollar"),
        (14, "RightCollar"),
        (15, "Head"),
        (16, "LeftShoulder"),
        (17, "RightShoulder"),
        (18, "LeftElbow"),
        (19, "RightElbow"),
        (20, "LeftWrist"),
        (21, "RightWrist"),
    ],
};

/// MocapBank-style rig (bvhtoolbox test file), centimetres, toes as End Sites.
pub const MOCAPBANK: RigMap = RigMap {
    name: "mocapbank",
    scale: 0.01,
    up: UpAxis::Y,
    skip_frames: 0,
    spread: &[],
    joints: &[
        (0, "Hips"),
        (1, "LeftHip"),
        (2, "RightHip"),
        (3, "Chest"),
        (4, "LeftKnee"),
        (5, "RightKnee"),
        (7, "LeftAnkle"),
        (8, "RightAnkle"),
        (9, "Chest2"),
        (10, "LeftAnkle/End"),
        (11, "RightAnkle/End"),
        (12, "Neck"),
        (13, "LeftCollar"),
        (14, "RightCollar"),
        (15, "Head"),
        (16, "LeftShoulder"),
        (17, "RightShoulder"),
        (18, "LeftElbow"),
        (19, "RightElbow"),
        (20, "LeftWrist"),
        (21, "RightWrist"),
    ],
};

/// FreeMoCap rig (bvhTools test3.bvh), metres, 6-channel joints, wrists and toes as End Sites.
pub const FREEMOCAP: RigMap = RigMap {
    name: "freemocap",
    scale: 1.0,
    up: UpAxis::Y,
    skip_frames: 0,
    spread: &[],
    joints: &[
        (0, "pelvis"),
        (1, "thigh.L"),
        (2, "thigh.R"),
        (3, "spine"),
        (4, "shin.L"),
        (5, "shin.R"),
        (7, "foot.L"),
        (8, "foot.R"),
        (9, "spine.001"),
        (10, "foot.L/End"),
        (11, "foot.R/End"),
        (12, "neck"),
        (13, "shoulder.L"),
        (14, "shoulder.R"),
        (15, "face"),
        (16, "upper_arm.L"),
        (17, "upper_arm.R"),
        (18, "forearm.L"),
        (19, "forearm.R"),
        (20, "forearm.L/End"),
        (21, "forearm.R/End"),
    ],
};

/// DeepMimic humanoid (pybullet_data), metres: the one chest rotation is spread over
/// spine1..spine3; no collars (local identity); toes and wrists are fixed joints.
pub const DEEPMIMIC: RigMap = RigMap {
    name: "deepmimic",
    scale: 1.0,
    up: UpAxis::Y,
    skip_frames: 0,
    spread: &[(3, 9)],
    joints: &[
        (0, "root"),
        (1, "left_hip"),
        (2, "right_hip"),
        (4, "left_knee"),
        (5, "right_knee"),
        (7, "left_ankle"),
        (8, "right_ankle"),
        (9, "chest"),
        (10, "left_toe"),
        (11, "right_toe"),
        (12, "neck"),
        (16, "left_shoulder"),
        (17, "right_shoulder"),
        (18, "left_elbow"),
        (19, "right_elbow"),
        (20, "left_wrist"),
        (21, "right_wrist"),
    ],
};

/// All known rigs.
/// SMPL parameter files (AMASS, AIST++): already SMPL-24, nothing to map. Not in [`RIGS`]:
/// it has no joint names to detect.
pub const SMPL: RigMap = RigMap { name: "smpl", scale: 1.0, up: UpAxis::Y, skip_frames: 0, spread: &[], joints: &[] };

pub const RIGS: [&RigMap; 6] = [&CMU, &LAFAN1, &BOXING, &MOCAPBANK, &FREEMOCAP, &DEEPMIMIC];

/// A rig by name.
pub fn rig(name: &str) -> Option<&'static RigMap> {
    RIGS.into_iter().find(|r| r.name == name)
}
