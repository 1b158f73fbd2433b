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

/// CMU (cgspeed MotionBuilder-friendly BVH conversion; `cmu_cgspeed_mb` in the CMU corpus
/// manifest): inches / 0.45. The LHipJoint/RHipJoint links are ignored. Skips the leading
/// calibration T-pose frame of cgspeed's files (the corpus loader sets it to 0 where the corpus
/// already dropped it).
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

/// CMU, cgspeed "3dsMax-friendly" BVH conversion (the 31-joint CMU skeleton under other names):
/// CMU units (inches / 0.45), Y up, faces +Z. Same layout as [`CMU`]: `lowerback`, `lowerneck`,
/// the collars and `lhand`/`rhand` sit at their parent's position (the bone directions skip
/// them); the neck takes `lowerneck`'s rotation swung onto `lowerneck -> Head`, so `Neck`'s own
/// bend is included. No leading frames are skipped: the mocapd CMU corpus (`MANIFEST.tsv`,
/// `lead_frames_dropped`) has the calibration T-pose removed already.
pub const CMU_MAX: RigMap = RigMap {
    name: "cmu_cgspeed_max",
    scale: 0.0254 / 0.45,
    up: UpAxis::Y,
    skip_frames: 0,
    spread: &[],
    joints: &[
        (0, "Hips"),
        (1, "LeftHip"),
        (2, "RightHip"),
        (3, "lowerback"),
        (4, "LeftKnee"),
        (5, "RightKnee"),
        (6, "Chest"),
        (7, "LeftAnkle"),
        (8, "RightAnkle"),
        (9, "Chest2"),
        (10, "LeftToe"),
        (11, "RightToe"),
        (12, "lowerneck"),
        (13, "LeftCollar"),
        (14, "RightCollar"),
        (15, "Head"),
        (16, "LeftShoulder"),
        (17, "RightShoulder"),
        (18, "LeftElbow"),
        (19, "RightElbow"),
        (20, "LeftWrist"),
        (21, "RightWrist"),
        (22, "lhand"),
        (23, "rhand"),
    ],
};

/// CMU, cgspeed "Daz-friendly, hip-corrected" release: the CMU motion retargeted onto Daz Aiko3
/// (fixed Aiko3 proportions), centimetres, Y up, faces +Z. Channel order differs per joint
/// (`hip` Z Y X, the rest Z X Y); the BVH reader composes each joint's channels in its own
/// listed order. `lButtock`/`rButtock` are short pelvis links (not mapped: the hips are the
/// thighs); the feet have no toe joint, so SMPL's foot (toe) is `lFoot`'s End Site (the toe
/// tip) and its local rotation stays identity; spine2 has no source joint, so the chest's
/// rotation relative to the abdomen is spread evenly over spine2 and spine3. SMPL's hand is
/// `lMid1` (middle finger base). No leading frames are skipped (see [`CMU_MAX`]).
pub const CMU_DAZ: RigMap = RigMap {
    name: "cmu_cgspeed_daz",
    scale: 0.01,
    up: UpAxis::Y,
    skip_frames: 0,
    spread: &[(6, 9)],
    joints: &[
        (0, "hip"),
        (1, "lThigh"),
        (2, "rThigh"),
        (3, "abdomen"),
        (4, "lShin"),
        (5, "rShin"),
        (7, "lFoot"),
        (8, "rFoot"),
        (9, "chest"),
        (10, "lFoot/End"),
        (11, "rFoot/End"),
        (12, "neck"),
        (13, "lCollar"),
        (14, "rCollar"),
        (15, "head"),
        (16, "lShldr"),
        (17, "rShldr"),
        (18, "lForeArm"),
        (19, "rForeArm"),
        (20, "lHand"),
        (21, "rHand"),
        (22, "lMid1"),
        (23, "rMid1"),
    ],
};

/// CMU takes retargeted onto the DeepMimic humanoid (the `arpspoof/Jump` data, converted to BVH
/// with ZYX Euler channels): metres, Y up, the character faces +X with its right at +Z. The
/// facing alignment of [`super::retarget`] (left hip minus right hip onto +X) turns it to face
/// +Z like SMPL (a yaw of -90 degrees about Y). Knees and elbows are 1-DoF, the wrists fixed.
/// The one chest rotation is spread over spine1..spine3. No source joint, so local identity
/// (rest): the collars, the head (the `neck` joint turns the head; `neck`'s End Site is the
/// head top, not a joint) and the toe and hand bends. The ankle's and wrist's End Sites (toe tip,
/// hand tip, approximate) stand for SMPL's foot and hand: they only give the ankle and wrist
/// their bone direction, their local rotation stays identity.
pub const CMU_HUMANOID3D: RigMap = RigMap {
    name: "cmu_deepmimic_humanoid3d",
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
        (10, "left_ankle/End"),
        (11, "right_ankle/End"),
        (12, "neck"),
        (16, "left_shoulder"),
        (17, "right_shoulder"),
        (18, "left_elbow"),
        (19, "right_elbow"),
        (20, "left_wrist"),
        (21, "right_wrist"),
        (22, "left_wrist/End"),
        (23, "right_wrist/End"),
    ],
};

/// SMPL parameter files (AMASS, AIST++): already SMPL-24, nothing to map. Not in [`RIGS`]:
/// it has no joint names to detect.
pub const SMPL: RigMap = RigMap { name: "smpl", scale: 1.0, up: UpAxis::Y, skip_frames: 0, spread: &[], joints: &[] };

/// All known rigs, in detection order (a more specific table before one whose names it also
/// has: the 3dsMax CMU skeleton has every name [`MOCAPBANK`] maps).
pub const RIGS: [&RigMap; 9] = [&CMU, &CMU_MAX, &CMU_DAZ, &CMU_HUMANOID3D, &LAFAN1, &BOXING, &MOCAPBANK, &FREEMOCAP, &DEEPMIMIC];

/// Other names of rigs: the `skeleton` column of the mocapd CMU corpus calls [`CMU`]
/// `cmu_cgspeed_mb`.
pub const ALIASES: [(&str, &str); 1] = [("cmu_cgspeed_mb", "cmu")];

/// A rig by name (or alias).
pub fn rig(name: &str) -> Option<&'static RigMap> {
    let name = ALIASES.iter().find(|(a, _)| *a == name).map_or(name, |(_, n)| *n);
    RIGS.into_iter().find(|r| r.name == name)
}

/// Every rig name, for messages.
pub fn rig_names() -> String {
    RIGS.iter().map(|r| r.name).chain(ALIASES.iter().map(|(a, _)| *a)).collect::<Vec<_>>().join(", ")
}
