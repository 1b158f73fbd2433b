//! DeepMimic motion files (pybullet_data `humanoid3d_*.txt`): JSON `{"Frames": [[duration,
//! root xyz, root quat, chest, neck, r_hip, r_knee, r_ankle, r_shoulder, r_elbow, l_hip,
//! l_knee, l_ankle, l_shoulder, l_elbow], ...]}` with quaternions `(w, x, y, z)` and 1-DoF
//! knees/elbows (radians about Z). Read into a [`SourceClip`] on the DeepMimic humanoid rest
//! skeleton (metres, Y up, facing +X, arms down); toes and wrists are added as fixed joints.

use std::path::{Path, PathBuf};

use super::retarget::SourceClip;
use crate::skeleton::rotation::{axis_angle_to_quat, quat_normalize, Quat, Vec3, QUAT_IDENTITY};

/// Why a DeepMimic file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DeepMimicError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not DeepMimic JSON: {reason}")]
    Format { path: PathBuf, reason: String },
}

/// (name, parent, rest offset, values in a frame: 4 = quaternion, 1 = angle about Z, 0 = fixed).
const JOINTS: [(&str, Option<usize>, Vec3, usize); 17] = [
    ("root", None, [0.0, 0.0, 0.0], 4),
    ("chest", Some(0), [0.0, 0.236151, 0.0], 4),
    ("neck", Some(1), [0.0, 0.223894, 0.0], 4),
    ("right_hip", Some(0), [0.0, 0.0, 0.084887], 4),
    ("right_knee", Some(3), [0.0, -0.421546, 0.0], 1),
    ("right_ankle", Some(4), [0.0, -0.40987, 0.0], 4),
    ("right_shoulder", Some(1), [-0.02405, 0.2435, 0.18311], 4),
    ("right_elbow", Some(6), [0.0, -0.274788, 0.0], 1),
    ("left_hip", Some(0), [0.0, 0.0, -0.084887], 4),
    ("left_knee", Some(8), [0.0, -0.421546, 0.0], 1),
    ("left_ankle", Some(9), [0.0, -0.40987, 0.0], 4),
    ("left_shoulder", Some(1), [-0.02405, 0.2435, -0.18311], 4),
    ("left_elbow", Some(11), [0.0, -0.274788, 0.0], 1),
    ("right_toe", Some(5), [0.13, -0.05, 0.0], 0),
    ("right_wrist", Some(7), [0.0, -0.258947, 0.0], 0),
    ("left_toe", Some(10), [0.13, -0.05, 0.0], 0),
    ("left_wrist", Some(12), [0.0, -0.258947, 0.0], 0),
];

/// Values per frame line: duration + root position + the joints' values.
pub const FRAME_LEN: usize = 44;

/// Read a DeepMimic motion file.
pub fn read(path: &Path) -> Result<SourceClip, DeepMimicError> {
    let text = std::fs::read_to_string(path).map_err(|source| DeepMimicError::Io { path: path.to_path_buf(), source })?;
    parse(&text).map_err(|reason| DeepMimicError::Format { path: path.to_path_buf(), reason })
}

/// Parse DeepMimic JSON text.
pub fn parse(text: &str) -> Result<SourceClip, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let frames = v.get("Frames").and_then(|f| f.as_array()).ok_or("no `Frames` array")?;
    let mut out = Vec::with_capacity(frames.len());
    let mut frame_time = 0.0f32;
    for (i, fr) in frames.iter().enumerate() {
        let vals: Vec<f32> = fr
            .as_array()
            .ok_or(format!("frame {i} is not an array"))?
            .iter()
            .map(|x| x.as_f64().map(|x| x as f32).filter(|x| x.is_finite()))
            .collect::<Option<_>>()
            .ok_or(format!("frame {i} has a non-numeric or non-finite value"))?;
        if vals.len() != FRAME_LEN {
            return Err(format!("frame {i} has {} values, expected {FRAME_LEN}", vals.len()));
        }
        if i == 0 {
            frame_time = vals[0];
        }
        let mut trans: Vec<Vec3> = JOINTS.iter().map(|j| j.2).collect();
        trans[0] = [vals[1], vals[2], vals[3]];
        let mut k = 4;
        let mut rots = Vec::with_capacity(JOINTS.len());
        for j in &JOINTS {
            let q: Quat = match j.3 {
                4 => quat_normalize([vals[k + 1], vals[k + 2], vals[k + 3], vals[k]]),
                1 => axis_angle_to_quat([0.0, 0.0, vals[k]]),
                _ => QUAT_IDENTITY,
            };
            k += j.3;
            rots.push(q);
        }
        out.push((trans, rots));
    }
    if frame_time.is_nan() || frame_time <= 0.0 {
        return Err(format!("bad frame duration {frame_time}"));
    }
    Ok(SourceClip {
        names: JOINTS.iter().map(|j| j.0.to_string()).collect(),
        parents: JOINTS.iter().map(|j| j.1).collect(),
        rest: JOINTS.iter().map(|j| j.2).collect(),
        fps: 1.0 / frame_time,
        frames: out,
    })
}
