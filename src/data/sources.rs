//! Real motion takes on disk: the fetched registry files under `data/raw/` (one source per rig:
//! `cmu`, `boxing`, `mocapbank`, `freemocap`, `deepmimic`; `lafan1` only when asked for),
//! plus SMPL parameter files users bring (`data/raw/amass/*.npz`, `data/raw/aist/*.npz`),
//! retargeted onto SMPL-24 at 30 fps, checked for empty clips and NaNs. Rigs of arbitrary BVH
//! files are detected from their joint names.

use std::path::{Path, PathBuf};

use crate::bvh::Bvh;
use super::error::{io, DataError};
use crate::motion::Motion;
use super::retarget::{retarget, retarget_bvh, SourceClip};
use super::rigs::{self, RigMap};

/// One real take: a whole retargeted file.
#[derive(Debug, Clone)]
pub struct Take {
    /// `source/file-stem`, e.g. `cmu/01_01`.
    pub id: String,
    /// Source name (the rig family), e.g. `cmu`.
    pub source: String,
    pub licence: String,
    pub path: PathBuf,
    pub motion: Motion,
}

/// A fetched source: name, folder under the raw directory, file names (empty = every file with
/// the extension), extension, rig, licence.
pub struct SourceDef {
    pub name: &'static str,
    pub folder: &'static str,
    pub files: &'static [&'static str],
    pub ext: &'static str,
    pub rig: &'static RigMap,
    pub licence: &'static str,
    /// Opt-in only (licence forbids redistribution of derived data).
    pub opt_in: bool,
}

/// Every source `data fetch` provides, in build order.
pub const SOURCES: [SourceDef; 8] = [
    SourceDef {
        name: "cmu",
        folder: "assimp",
        files: &["01_01.bvh", "01_03.bvh"],
        ext: "bvh",
        rig: &rigs::CMU,
        licence: "CMU Graphics Lab: free for research and commercial use",
        opt_in: false,
    },
    SourceDef {
        name: "boxing",
        folder: "assimp",
        files: &["Boxing_Toes.bvh"],
        ext: "bvh",
        rig: &rigs::BOXING,
        licence: "Debian assimp-testmodels, BSD-3-Clause blanket",
        opt_in: false,
    },
    SourceDef {
        name: "mocapbank",
        folder: "bvhtoolbox",
        files: &[],
        ext: "bvh",
        rig: &rigs::MOCAPBANK,
        licence: "MIT (bvhtoolbox 0.1.3)",
        opt_in: false,
    },
    SourceDef {
        name: "freemocap",
        folder: "freemocap",
        files: &[],
        ext: "bvh",
        rig: &rigs::FREEMOCAP,
        licence: "MIT (bvhTools 1.6.0)",
        opt_in: false,
    },
    SourceDef {
        name: "deepmimic",
        folder: "deepmimic",
        files: &[],
        ext: "txt",
        rig: &rigs::DEEPMIMIC,
        licence: "zlib / MIT (pybullet 3.2.7)",
        opt_in: false,
    },
    SourceDef {
        name: "amass",
        folder: "amass",
        files: &[],
        ext: "npz",
        rig: &rigs::SMPL,
        licence: "AMASS licence: bring your own copy, never redistribute derived data",
        opt_in: false,
    },
    SourceDef {
        name: "aist",
        folder: "aist",
        files: &[],
        ext: "npz",
        rig: &rigs::SMPL,
        licence: "AIST++ (CC BY 4.0 annotations): bring your own copy",
        opt_in: false,
    },
    SourceDef {
        name: "lafan1",
        folder: "lafan1",
        files: &[],
        ext: "bvh",
        rig: &rigs::LAFAN1,
        licence: "CC BY-NC-ND 4.0 (Ubisoft LAFAN1): never ship anything derived from it",
        opt_in: true,
    },
];

/// A source definition by name.
pub fn source_def(name: &str) -> Option<&'static SourceDef> {
    SOURCES.iter().find(|s| s.name == name)
}

/// Files of a source present under `raw`, sorted.
pub fn source_files(raw: &Path, def: &SourceDef) -> Vec<PathBuf> {
    let dir = raw.join(def.folder);
    let mut out: Vec<PathBuf> = if def.files.is_empty() {
        std::fs::read_dir(&dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == def.ext)).collect())
            .unwrap_or_default()
    } else {
        def.files.iter().map(|f| dir.join(f)).filter(|p| p.is_file()).collect()
    };
    out.sort();
    out
}

/// The first rig whose joint names all occur in the BVH.
pub fn detect_rig(bvh: &Bvh) -> Option<&'static RigMap> {
    rigs::RIGS
        .into_iter()
        .filter(|r| r.name != "deepmimic")
        .find(|r| r.joints.iter().all(|(_, n)| bvh.joint_index(n.trim_end_matches("/End")).is_some()))
}

/// Check a motion: not empty, every value finite.
pub fn validate(take: &str, m: &Motion) -> Result<(), DataError> {
    if m.is_empty() {
        return Err(DataError::EmptyClip { take: take.to_string() });
    }
    for f in 0..m.len() {
        let ok = m.root[f].iter().all(|v| v.is_finite()) && m.rotations[f].iter().all(|q| q.iter().all(|v| v.is_finite()));
        if !ok {
            return Err(DataError::NonFinite { take: take.to_string(), frame: f });
        }
    }
    Ok(())
}

/// Load one motion file: `.txt` = DeepMimic, otherwise BVH with `rig` (or the detected rig).
pub fn load_file(path: &Path, rig: Option<&RigMap>, id: &str) -> Result<(Motion, &'static str), DataError> {
    let is_txt = path.extension().is_some_and(|e| e == "txt");
    if path.extension().is_some_and(|e| e == "npz") {
        let motion = super::smpl_npz::read_smpl(path).map_err(|e| DataError::Smpl { take: id.to_string(), source: e })?;
        let mut motion = motion.resample(30.0).map_err(|source| DataError::Motion { take: id.to_string(), source })?;
        motion.align_floor();
        validate(id, &motion)?;
        return Ok((motion, rigs::SMPL.name));
    }
    let (motion, rig_name) = if is_txt {
        let clip: SourceClip = super::deepmimic::read(path)?;
        let r = rig.unwrap_or(&rigs::DEEPMIMIC);
        (retarget(&clip, r), rigs::DEEPMIMIC.name)
    } else {
        if !path.is_file() {
            return Err(io(path)(std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")));
        }
        let bvh = Bvh::read(path)?;
        // mocapd's own recordings (`[record] bvh`, `lift --out x.bvh`) are SMPL-24 already.
        if let Some(clip) = rig.is_none().then(|| crate::motion::bvh::to_clip(&bvh)).flatten() {
            let mut motion = clip.resample(30.0).map_err(|source| DataError::Motion { take: id.to_string(), source })?;
            motion.align_floor();
            validate(id, &motion)?;
            return Ok((motion, rigs::SMPL.name));
        }
        let r = match rig {
            Some(r) => r,
            None => detect_rig(&bvh).ok_or_else(|| DataError::UnknownRig { path: path.to_path_buf() })?,
        };
        (retarget_bvh(&bvh, r), rig_by_ptr(r))
    };
    let motion = motion.map_err(|source| DataError::Retarget { take: id.to_string(), source })?;
    validate(id, &motion)?;
    Ok((motion, rig_name))
}

fn rig_by_ptr(r: &RigMap) -> &'static str {
    rigs::rig(r.name).map(|r| r.name).unwrap_or("custom")
}

/// Every take of one source.
pub fn load_source(raw: &Path, def: &SourceDef) -> Result<Vec<Take>, DataError> {
    let mut out = Vec::new();
    for path in source_files(raw, def) {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let stem = stem.strip_prefix("humanoid3d_").unwrap_or(&stem).to_string();
        let id = format!("{}/{}", def.name, stem);
        let (motion, _) = load_file(&path, Some(def.rig), &id)?;
        out.push(Take { id, source: def.name.to_string(), licence: def.licence.to_string(), path, motion });
    }
    Ok(out)
}

/// Every real take under `raw` (LAFAN1 only with `include_lafan1`).
pub fn load_all(raw: &Path, include_lafan1: bool) -> Result<Vec<Take>, DataError> {
    let mut out = Vec::new();
    for def in SOURCES.iter().filter(|d| !d.opt_in || include_lafan1) {
        out.extend(load_source(raw, def)?);
    }
    Ok(out)
}
