//! VRM Animation (`.vrma`) recorder: keeps the frames and, at finish, writes a glTF 2.0 binary
//! with the humanoid in the VRM T-pose (faces +Z, Y up, feet at Y = 0, translations = SMPL rest
//! offsets, identity rotations), `animations[0]` with a LINEAR rotation channel for every bone
//! and a translation channel for the hips, and the `VRMC_vrm_animation` root extension that
//! maps VRM 1.0 bone names to nodes. VRM 1.0 faces +Z like SMPL: local rotations go in as they
//! are, with no handedness flip.
//!
//! The file is written whole at finish, to `NAME.vrma.partial` then renamed, so a `.vrma` that
//! exists is complete, and never over an existing file. Nothing is written for a recording
//! without a frame. After a crash (no finish), `mocapd recover` writes it from the take's
//! `mocapd.motion/1` file ([`super::recover`]).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::humanoid::{self, HumanBone};
use super::{glb, MotionFrame, Sink, SinkError, SinkStats};
use crate::motion::frame::continuous;
use crate::skeleton::rotation::{Quat, Vec3};

/// glTF component type FLOAT.
const FLOAT: u32 = 5126;

/// The `.vrma` recorder sink.
#[derive(Debug)]
pub struct VrmaRecorder {
    path: PathBuf,
    fps: f32,
    bones: Vec<HumanBone>,
    upper_chest: bool,
    hips: Vec<Vec3>,
    /// Per frame, one rotation per bone (sign-continuous).
    rotations: Vec<Vec<Quat>>,
    finished: bool,
    stats: SinkStats,
}

impl VrmaRecorder {
    /// Record to `path` at `fps` (the time accessor is `frame / fps`). `upper_chest`: animate
    /// upperChest = spine3 instead of folding spine3 into chest.
    pub fn new(path: &Path, fps: f32, upper_chest: bool) -> Self {
        let fps = if fps.is_finite() && fps > 0.0 { fps } else { 30.0 };
        Self {
            path: path.to_path_buf(),
            fps,
            bones: humanoid::bones(upper_chest),
            upper_chest,
            hips: Vec::new(),
            rotations: Vec::new(),
            finished: false,
            stats: SinkStats::default(),
        }
    }

    /// Frames recorded so far.
    pub fn len(&self) -> usize {
        self.hips.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hips.is_empty()
    }

    /// The GLB bytes for the frames recorded so far.
    pub fn encode(&self) -> Result<Vec<u8>, SinkError> {
        let n = self.len();
        if n == 0 {
            return Err(SinkError::Empty(format!("no frames for {}", self.path.display())));
        }
        let mut bin: Vec<u8> = Vec::new();
        let mut views = Vec::new();
        let mut accessors = Vec::new();
        let mut push = |values: &[f32], ty: &str, count: usize, minmax: Option<(f32, f32)>| -> usize {
            let offset = bin.len();
            for v in values {
                bin.extend_from_slice(&v.to_le_bytes());
            }
            views.push(json!({"buffer": 0, "byteOffset": offset, "byteLength": values.len() * 4}));
            let mut acc = json!({"bufferView": views.len() - 1, "componentType": FLOAT, "count": count, "type": ty});
            if let Some((lo, hi)) = minmax {
                acc["min"] = json!([lo]);
                acc["max"] = json!([hi]);
            }
            accessors.push(acc);
            accessors.len() - 1
        };
        let times: Vec<f32> = (0..n).map(|k| k as f32 / self.fps).collect();
        let time_acc = push(&times, "SCALAR", n, Some((0.0, times[n - 1])));
        let mut samplers = Vec::new();
        let mut channels = Vec::new();
        for (k, _) in self.bones.iter().enumerate() {
            let values: Vec<f32> = self.rotations.iter().flat_map(|r| r[k]).collect();
            let acc = push(&values, "VEC4", n, None);
            samplers.push(json!({"input": time_acc, "output": acc, "interpolation": "LINEAR"}));
            channels.push(json!({"sampler": samplers.len() - 1, "target": {"node": k, "path": "rotation"}}));
        }
        let hips: Vec<f32> = self.hips.iter().flatten().copied().collect();
        let acc = push(&hips, "VEC3", n, None);
        samplers.push(json!({"input": time_acc, "output": acc, "interpolation": "LINEAR"}));
        channels.push(json!({"sampler": samplers.len() - 1, "target": {"node": 0, "path": "translation"}}));

        let nodes: Vec<Value> = self
            .bones
            .iter()
            .map(|b| {
                let children: Vec<usize> =
                    (0..self.bones.len()).filter(|&c| humanoid::parent(self.bones[c].smpl, self.upper_chest) == Some(b.smpl)).collect();
                let mut node = json!({"name": b.vrm, "translation": humanoid::rest_offset(b.smpl, self.upper_chest)});
                if !children.is_empty() {
                    node["children"] = json!(children);
                }
                node
            })
            .collect();
        let human_bones: serde_json::Map<String, Value> =
            self.bones.iter().enumerate().map(|(i, b)| (b.vrm.to_string(), json!({"node": i}))).collect();
        let doc = json!({
            "asset": {"version": "2.0", "generator": "mocapd"},
            "scene": 0,
            "scenes": [{"nodes": [0]}],
            "nodes": nodes,
            "buffers": [{"byteLength": bin.len()}],
            "bufferViews": views,
            "accessors": accessors,
            "animations": [{"name": "mocapd", "samplers": samplers, "channels": channels}],
            "extensionsUsed": ["VRMC_vrm_animation"],
            "extensions": {"VRMC_vrm_animation": {"specVersion": "1.0", "humanoid": {"humanBones": human_bones}}},
        });
        glb::encode(&doc, &bin).map_err(SinkError::Encode)
    }
}

impl Sink for VrmaRecorder {
    fn send(&mut self, frame: &MotionFrame) -> Result<(), SinkError> {
        if self.finished {
            return Err(SinkError::Finished);
        }
        let (clean, fixed) = frame.sanitized();
        self.stats.sanitized += fixed;
        let prev = self.rotations.last();
        let rots: Vec<Quat> = self
            .bones
            .iter()
            .enumerate()
            .map(|(k, b)| {
                let q = humanoid::local_rotation(&clean.rotations, b.smpl, self.upper_chest);
                prev.map_or(q, |p| continuous(p[k], q))
            })
            .collect();
        self.rotations.push(rots);
        self.hips.push(clean.root);
        self.stats.frames += 1;
        Ok(())
    }

    /// Write the file (once; nothing without a frame); later calls do nothing.
    fn finish(&mut self) -> Result<(), SinkError> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        if self.is_empty() {
            tracing::info!("no frame recorded: {} not written", self.path.display());
            return Ok(());
        }
        let bytes = self.encode()?;
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".partial");
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, &bytes).map_err(|source| SinkError::Io { path: tmp.clone(), source })?;
        super::take::publish(&tmp, &self.path)?;
        self.stats.bytes += bytes.len() as u64;
        Ok(())
    }

    fn stats(&self) -> SinkStats {
        self.stats
    }
}
