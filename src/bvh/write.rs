//! BVH writer. Numbers print in Rust's shortest round-trip form, so read -> write -> read gives
//! back the same values bit for bit.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::Bvh;
use crate::skeleton::rotation::Vec3;

/// Why a BVH file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BvhWriteError {
    #[error("cannot write BVH file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

fn vec3(v: Vec3) -> String {
    format!("{} {} {}", v[0], v[1], v[2])
}

fn write_joint(bvh: &Bvh, j: usize, depth: usize, out: &mut String) {
    let ind = "\t".repeat(depth);
    let joint = &bvh.joints[j];
    let kw = if joint.parent.is_none() { "ROOT" } else { "JOINT" };
    let _ = writeln!(out, "{ind}{kw} {}", joint.name);
    let _ = writeln!(out, "{ind}{{");
    let _ = writeln!(out, "{ind}\tOFFSET {}", vec3(joint.offset));
    if !joint.channels.is_empty() {
        let names: Vec<&str> = joint.channels.iter().map(|c| c.name()).collect();
        let _ = writeln!(out, "{ind}\tCHANNELS {} {}", names.len(), names.join(" "));
    }
    for c in (j + 1..bvh.joints.len()).filter(|&c| bvh.joints[c].parent == Some(j)) {
        write_joint(bvh, c, depth + 1, out);
    }
    if let Some(end) = joint.end_site {
        let _ = writeln!(out, "{ind}\tEnd Site\n{ind}\t{{\n{ind}\t\tOFFSET {}\n{ind}\t}}", vec3(end));
    }
    let _ = writeln!(out, "{ind}}}");
}

/// The order in which [`to_string`] lists the joints (depth first from each root), which is the
/// order a frame line's channels must follow.
pub fn write_order(bvh: &Bvh) -> Vec<usize> {
    fn visit(bvh: &Bvh, j: usize, out: &mut Vec<usize>) {
        out.push(j);
        for c in (j + 1..bvh.joints.len()).filter(|&c| bvh.joints[c].parent == Some(j)) {
            visit(bvh, c, out);
        }
    }
    let mut out = Vec::with_capacity(bvh.joints.len());
    for root in (0..bvh.joints.len()).filter(|&j| bvh.joints[j].parent.is_none()) {
        visit(bvh, root, &mut out);
    }
    out
}

/// BVH text for `bvh`.
pub fn to_string(bvh: &Bvh) -> String {
    let mut out = String::from("HIERARCHY\n");
    for root in (0..bvh.joints.len()).filter(|&j| bvh.joints[j].parent.is_none()) {
        write_joint(bvh, root, 0, &mut out);
    }
    let _ = writeln!(out, "MOTION\nFrames: {}\nFrame Time: {}", bvh.frames.len(), bvh.frame_time);
    for f in &bvh.frames {
        let row: Vec<String> = f.iter().map(|v| v.to_string()).collect();
        let _ = writeln!(out, "{}", row.join(" "));
    }
    out
}

/// Write `bvh` to `path`.
pub fn write(bvh: &Bvh, path: &Path) -> Result<(), BvhWriteError> {
    std::fs::write(path, to_string(bvh)).map_err(|source| BvhWriteError::Io { path: path.to_path_buf(), source })
}
