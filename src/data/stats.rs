//! `data stats`: what a built data set holds, from its manifest and shards: minutes per source
//! (real, procedural, mixed), takes and clips per split, foot-contact ratios and per-joint
//! rotation ranges (axis-angle components of the local rotations, degrees, over every stored
//! frame; each clip counted once, not once per camera).

use std::path::Path;

use candle_core::Device;
use serde::Serialize;

use super::build::{read_manifest, SourceInfo, SplitCounts};
use super::error::DataError;
use crate::skeleton::rotation::{mat_to_quat, quat_to_axis_angle, sixd_to_mat};
use crate::skeleton::smpl::{JOINT_NAMES, NUM_JOINTS};

/// Range of one joint's local rotation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JointRange {
    pub joint: String,
    /// Minimum axis-angle components (x, y, z), degrees.
    pub min_deg: [f32; 3],
    pub max_deg: [f32; 3],
    /// Largest rotation angle, degrees.
    pub max_angle_deg: f32,
}

/// Summary of a built data set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub seed: u64,
    pub minutes_real: f32,
    pub minutes_procedural: f32,
    pub minutes_mixed: f32,
    pub procedural_share: f32,
    pub sources: Vec<SourceInfo>,
    pub train: SplitCounts,
    pub val: SplitCounts,
    pub shards: usize,
    pub bytes: u64,
    /// Frames with each contact set (left ankle, left foot, right ankle, right foot).
    pub contact_ratio: [f32; 4],
    /// Frames with at least one foot contact.
    pub any_contact_ratio: f32,
    pub joints: Vec<JointRange>,
}

/// Read `dir/manifest.json` and the shards it lists.
pub fn stats(dir: &Path) -> Result<Stats, DataError> {
    let man = read_manifest(dir)?;
    let mut bytes = 0;
    let mut contacts = [0u64; 4];
    let mut any = 0u64;
    let mut frames = 0u64;
    let mut lo = [[f32::INFINITY; 3]; NUM_JOINTS];
    let mut hi = [[f32::NEG_INFINITY; 3]; NUM_JOINTS];
    let mut max_angle = [0.0f32; NUM_JOINTS];
    let cams = man.options.cameras.max(1);
    for shard in &man.shards {
        let path = dir.join(&shard.file);
        bytes += std::fs::metadata(&path).map_err(super::error::io(&path))?.len();
        let t = candle_core::safetensors::load(&path, &Device::Cpu)?;
        let motion = t.get("motion").ok_or_else(|| DataError::BadDataset { path: path.clone(), reason: "no `motion` tensor".into() })?;
        let dims = motion.dims().to_vec();
        if dims != [shard.samples, man.clip_len, man.feature_dim] {
            return Err(DataError::BadDataset {
                path,
                reason: format!("`motion` is {dims:?}, the manifest says [{}, {}, {}]", shard.samples, man.clip_len, man.feature_dim),
            });
        }
        let v = motion.flatten_all()?.to_vec1::<f32>()?;
        let per_clip = man.clip_len * man.feature_dim;
        // Samples of one clip are consecutive (one per camera): take every `cams`-th.
        for clip in v.chunks(per_clip).step_by(cams) {
            for f in clip.chunks(man.feature_dim) {
                frames += 1;
                let mut a = false;
                for c in 0..4 {
                    if f[144 + c] > 0.5 {
                        contacts[c] += 1;
                        a = true;
                    }
                }
                any += a as u64;
                for j in 0..NUM_JOINTS {
                    let six: [f32; 6] = std::array::from_fn(|k| f[j * 6 + k]);
                    let aa = quat_to_axis_angle(mat_to_quat(&sixd_to_mat(&six)));
                    for k in 0..3 {
                        lo[j][k] = lo[j][k].min(aa[k]);
                        hi[j][k] = hi[j][k].max(aa[k]);
                    }
                    max_angle[j] = max_angle[j].max((aa[0] * aa[0] + aa[1] * aa[1] + aa[2] * aa[2]).sqrt());
                }
            }
        }
    }
    let n = frames.max(1) as f32;
    let deg = |v: [f32; 3]| v.map(|x| if x.is_finite() { x.to_degrees() } else { 0.0 });
    Ok(Stats {
        seed: man.seed,
        minutes_real: man.minutes_real,
        minutes_procedural: man.minutes_procedural,
        minutes_mixed: man.minutes_mixed,
        procedural_share: man.procedural_share,
        sources: man.sources.clone(),
        train: man.train.clone(),
        val: man.val.clone(),
        shards: man.shards.len(),
        bytes,
        contact_ratio: contacts.map(|c| c as f32 / n),
        any_contact_ratio: any as f32 / n,
        joints: (0..NUM_JOINTS)
            .map(|j| JointRange {
                joint: JOINT_NAMES[j].into(),
                min_deg: deg(lo[j]),
                max_deg: deg(hi[j]),
                max_angle_deg: max_angle[j].to_degrees(),
            })
            .collect(),
    })
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{:<12} {:<10} {:>6} {:>8} {:>7}", "source", "kind", "takes", "minutes", "clips")?;
        for s in &self.sources {
            let kind = format!("{:?}", s.kind).to_lowercase();
            writeln!(f, "{:<12} {:<10} {:>6} {:>8.2} {:>7}", s.name, kind, s.takes, s.minutes, s.clips)?;
        }
        writeln!(
            f,
            "minutes: real {:.2}, procedural {:.2}, mixed {:.2} (procedural share {:.0} %)",
            self.minutes_real,
            self.minutes_procedural,
            self.minutes_mixed,
            self.procedural_share * 100.0
        )?;
        writeln!(f, "train: {} takes, {} clips, {} samples", self.train.takes, self.train.clips, self.train.samples)?;
        writeln!(f, "val:   {} takes, {} clips, {} samples", self.val.takes, self.val.clips, self.val.samples)?;
        writeln!(f, "{} shards, {:.1} MB, seed {}", self.shards, self.bytes as f64 / 1e6, self.seed)?;
        let c = self.contact_ratio.map(|x| x * 100.0);
        writeln!(
            f,
            "foot contact: L ankle {:.0} %, L foot {:.0} %, R ankle {:.0} %, R foot {:.0} %, any {:.0} %",
            c[0],
            c[1],
            c[2],
            c[3],
            self.any_contact_ratio * 100.0
        )?;
        writeln!(f, "{:<15} {:>17} {:>17} {:>17} {:>6}", "joint (deg)", "x min..max", "y min..max", "z min..max", "max")?;
        for j in &self.joints {
            let r = |k: usize| format!("{:.0}..{:.0}", j.min_deg[k], j.max_deg[k]);
            writeln!(f, "{:<15} {:>17} {:>17} {:>17} {:>6.0}", j.joint, r(0), r(1), r(2), j.max_angle_deg)?;
        }
        Ok(())
    }
}
