//! Reads a user's VRM 0.x avatar (`.vrm`, a GLB) for its humanoid bone positions, so VMC sends
//! the avatar's own local offsets. glTF node translations are summed down the node tree
//! (VRM0-normalised models have no rest rotations) and converted to Unity space (z negated).

use std::path::Path;

use serde_json::Value;

use super::glb;
use super::SinkError;
use crate::skeleton::rotation::{add, Vec3};

/// Humanoid bone world positions of an avatar in Unity space, keyed by HumanBodyBones name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AvatarRig {
    pub positions: Vec<(String, Vec3)>,
}

impl AvatarRig {
    /// World position (Unity space, metres) of a HumanBodyBones bone.
    pub fn position(&self, unity_name: &str) -> Option<Vec3> {
        self.positions.iter().find(|(n, _)| n == unity_name).map(|(_, p)| *p)
    }
}

/// Read a VRM 0.x file.
pub fn read_vrm0(path: &Path) -> Result<AvatarRig, SinkError> {
    let err = |reason: String| SinkError::Vrm { path: path.to_path_buf(), reason };
    let bytes = std::fs::read(path).map_err(|source| SinkError::Io { path: path.to_path_buf(), source })?;
    let doc = glb::decode(&bytes).map_err(err)?;
    parse_vrm0(&doc.json).map_err(err)
}

/// VRM 0.x humanoid bone name (`leftUpperLeg`) to Unity HumanBodyBones (`LeftUpperLeg`).
pub fn unity_name(vrm0: &str) -> String {
    let mut c = vrm0.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// Bone positions from a VRM 0.x glTF JSON document.
pub fn parse_vrm0(json: &Value) -> Result<AvatarRig, String> {
    let nodes = json["nodes"].as_array().ok_or("no `nodes` array")?;
    let mut parent = vec![None; nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        for c in n["children"].as_array().into_iter().flatten() {
            if let Some(slot) = c.as_u64().and_then(|c| parent.get_mut(c as usize)) {
                *slot = Some(i);
            }
        }
    }
    let translation = |i: usize| -> Vec3 {
        let t = &nodes[i]["translation"];
        std::array::from_fn(|k| t[k].as_f64().filter(|v| v.is_finite()).unwrap_or(0.0) as f32)
    };
    let world = |mut i: usize| -> Result<Vec3, String> {
        let mut p = [0.0; 3];
        for _ in 0..nodes.len() {
            p = add(p, translation(i));
            match parent[i] {
                Some(q) => i = q,
                None => return Ok(p),
            }
        }
        Err("the node tree has a cycle".into())
    };
    let bones = json["extensions"]["VRM"]["humanoid"]["humanBones"]
        .as_array()
        .ok_or("no VRM 0.x humanoid (`extensions.VRM.humanoid.humanBones`)")?;
    let mut positions = Vec::new();
    for b in bones {
        let (Some(name), Some(node)) = (b["bone"].as_str(), b["node"].as_u64()) else { continue };
        let node = node as usize;
        if node >= nodes.len() {
            return Err(format!("bone {name} points at node {node}, the file has {}", nodes.len()));
        }
        let p = world(node)?;
        positions.push((unity_name(name), [p[0], p[1], -p[2]]));
    }
    if !positions.iter().any(|(n, _)| n == "Hips") {
        return Err("the humanoid has no hips".into());
    }
    Ok(AvatarRig { positions })
}
