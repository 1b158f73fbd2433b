//! `data stats`: what a built data set holds, from its manifest and shards: minutes per source
//! (real, procedural, mixed), minutes per source × split × category (the manifest's takes;
//! `-` where a take has no category), takes and clips per split, foot-contact ratios, per-joint
//! rotation ranges (axis-angle components of the local rotations, degrees, over every stored
//! frame; each clip counted once, not once per camera), and the coverage of each held-out split
//! by the training poses ([`super::coverage`]).

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::Device;
use serde::{Deserialize, Serialize};

use super::build::{read_manifest, SourceInfo, SplitCounts};
use super::coverage::{Collector, Coverage, CoverageOptions};
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

/// Minutes of one source in one split and category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Minutes {
    pub source: String,
    pub split: String,
    /// The takes' category (`-` when the manifest has none).
    pub category: String,
    pub takes: usize,
    pub minutes: f32,
}

/// What `data stats` measures beyond the manifest and the per-frame counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsOptions {
    /// Measure the coverage of the held-out splits (`None`: skip it).
    pub coverage: Option<CoverageOptions>,
}

impl StatsOptions {
    /// Everything, coverage with its defaults.
    pub fn full() -> Self {
        Self { coverage: Some(CoverageOptions::default()) }
    }
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
    /// Minutes per source, split and category, sorted by those.
    pub minutes: Vec<Minutes>,
    pub train: SplitCounts,
    pub val: SplitCounts,
    pub test: SplitCounts,
    pub shards: usize,
    pub bytes: u64,
    /// Frames with each contact set (left ankle, left foot, right ankle, right foot).
    pub contact_ratio: [f32; 4],
    /// Frames with at least one foot contact.
    pub any_contact_ratio: f32,
    pub joints: Vec<JointRange>,
    /// Coverage of each held-out split (validation first), when measured.
    pub coverage: Vec<Coverage>,
}

/// A manifest take as far as the minutes table needs it: its category is read where the
/// manifest has one (`category`, or `meta.category`), read straight from the JSON so that sets
/// built before categories existed still load.
#[derive(Deserialize)]
struct TakeRow {
    source: String,
    split: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    meta: Option<TakeRowMeta>,
    minutes: f32,
}

#[derive(Deserialize)]
struct TakeRowMeta {
    #[serde(default)]
    category: Option<String>,
}

#[derive(Deserialize)]
struct TakeRows {
    #[serde(default)]
    takes: Vec<TakeRow>,
}

/// Minutes per source × split × category of the manifest's takes.
fn minutes_table(dir: &Path) -> Result<Vec<Minutes>, DataError> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(super::error::io(&path))?;
    let rows: TakeRows = serde_json::from_str(&text).map_err(|source| DataError::Json { path: path.clone(), source })?;
    let mut by: BTreeMap<(String, String, String), (usize, f32)> = BTreeMap::new();
    for t in rows.takes {
        let cat = t.category.or(t.meta.and_then(|m| m.category)).filter(|c| !c.is_empty()).unwrap_or_else(|| "-".into());
        let e = by.entry((t.source, t.split, cat)).or_default();
        e.0 += 1;
        e.1 += t.minutes;
    }
    Ok(by.into_iter().map(|((source, split, category), (takes, minutes))| Minutes { source, split, category, takes, minutes }).collect())
}

/// Read `dir/manifest.json` and the shards it lists; coverage measured with its defaults.
pub fn stats(dir: &Path) -> Result<Stats, DataError> {
    stats_with(dir, &StatsOptions::full())
}

/// [`stats`] with options (coverage on or off, its subsampling, a progress bar).
pub fn stats_with(dir: &Path, o: &StatsOptions) -> Result<Stats, DataError> {
    let man = read_manifest(dir)?;
    let minutes = minutes_table(dir)?;
    let mut cover = o.coverage.clone().map(Collector::new);
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
            if let Some(c) = cover.as_mut() {
                c.add_clip(shard.split.name(), clip, man.feature_dim);
            }
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
        minutes,
        train: man.train.clone(),
        val: man.val.clone(),
        test: man.test.clone(),
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
        coverage: cover.map(Collector::finish).unwrap_or_default(),
    })
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{:<12} {:<10} {:>6} {:>8} {:>7}", "source", "kind", "takes", "minutes", "clips")?;
        for s in &self.sources {
            let kind = format!("{:?}", s.kind).to_lowercase();
            writeln!(f, "{:<12} {:<10} {:>6} {:>8.2} {:>7}", s.name, kind, s.takes, s.minutes, s.clips)?;
        }
        if !self.minutes.is_empty() {
            writeln!(f, "{:<12} {:<6} {:<14} {:>6} {:>8}", "source", "split", "category", "takes", "minutes")?;
            for m in &self.minutes {
                writeln!(f, "{:<12} {:<6} {:<14} {:>6} {:>8.2}", m.source, m.split, m.category, m.takes, m.minutes)?;
            }
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
        if self.test.takes > 0 {
            writeln!(f, "test:  {} takes, {} clips, {} samples", self.test.takes, self.test.clips, self.test.samples)?;
        }
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
        for c in &self.coverage {
            writeln!(
                f,
                "coverage {}: nearest training pose after Procrustes, mean {:.1} mm, median {:.1}, p90 {:.1}, max {:.1} \
                 ({} frames, 1 in {}, vs {} training frames, 1 in {}; {:.1} s)",
                c.split, c.mean_mm, c.median_mm, c.p90_mm, c.max_mm, c.frames, c.held_every, c.train_frames, c.train_every, c.seconds
            )?;
        }
        Ok(())
    }
}
