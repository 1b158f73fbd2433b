//! Real motion takes on disk: the fetched registry files under `data/raw/` (one source per rig:
//! `cmu`, `boxing`, `mocapbank`, `freemocap`, `deepmimic`; `lafan1` only when asked for),
//! plus SMPL parameter files users bring (`data/raw/amass/*.npz`, `data/raw/aist/*.npz`),
//! retargeted onto SMPL-24 at 30 fps, checked for empty clips and NaNs. Rigs of arbitrary BVH
//! files are detected from their joint names. BVH folders given to `data build` (the CMU
//! corpus) are listed by [`super::cmu`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{io, DataError};
use super::retarget::{bone_lengths, retarget, SourceClip};
use super::rigs::{self, RigMap};
use crate::bvh::Bvh;
use crate::motion::Motion;
use crate::skeleton::smpl::NUM_JOINTS;

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
    /// The source's own bone lengths on SMPL ([`super::retarget::bone_lengths`]); `None` for
    /// SMPL sources.
    pub bones: Option<[f32; NUM_JOINTS]>,
    pub meta: TakeMeta,
}

/// What is known about a real take beyond its motion (all optional; kept in the build
/// manifest's takes).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TakeMeta {
    /// The rig it was retargeted from (`smpl` for SMPL sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rig: Option<String>,
    /// The file, relative to its BVH folder (`--bvh-dir` takes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// CMU subject and trial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial: Option<u32>,
    /// Category of the motion (the CMU corpus manifest's `category`: dance, locomotion, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The take's own licence line, where its folder's manifest has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<String>,
}

/// A loaded motion file ([`load`]).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub motion: Motion,
    /// The rig's name (`smpl` for SMPL-24 input, `custom` for a table not in [`rigs::RIGS`]).
    pub rig: &'static str,
    /// The source's bone lengths on SMPL ([`super::retarget::bone_lengths`]); `None` for SMPL input.
    pub bones: Option<[f32; NUM_JOINTS]>,
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
    load(path, rig, id).map(|l| (l.motion, l.rig))
}

/// [`load_file`], with the source's bone lengths.
pub fn load(path: &Path, rig: Option<&RigMap>, id: &str) -> Result<Loaded, DataError> {
    let is_txt = path.extension().is_some_and(|e| e == "txt");
    let smpl = |motion: Motion| -> Result<Loaded, DataError> {
        let mut motion = motion.resample(30.0).map_err(|source| DataError::Motion { take: id.to_string(), source })?;
        motion.align_floor();
        validate(id, &motion)?;
        Ok(Loaded { motion, rig: rigs::SMPL.name, bones: None })
    };
    if path.extension().is_some_and(|e| e == "npz") {
        return smpl(super::smpl_npz::read_smpl(path).map_err(|e| DataError::Smpl { take: id.to_string(), source: e })?);
    }
    let (clip, r, rig_name) = if is_txt {
        let r = rig.unwrap_or(&rigs::DEEPMIMIC);
        (super::deepmimic::read(path)?, r, rigs::DEEPMIMIC.name)
    } else {
        if !path.is_file() {
            return Err(io(path)(std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")));
        }
        let bvh = Bvh::read(path)?;
        // mocapd's own recordings (`[record] bvh`, `lift --out x.bvh`) are SMPL-24 already.
        if let Some(clip) = rig.is_none().then(|| crate::motion::bvh::to_clip(&bvh)).flatten() {
            return smpl(clip);
        }
        let r = match rig {
            Some(r) => r,
            None => detect_rig(&bvh).ok_or_else(|| DataError::UnknownRig { path: path.to_path_buf() })?,
        };
        (SourceClip::from_bvh(&bvh), r, rig_by_ptr(r))
    };
    let err = |source| DataError::Retarget { take: id.to_string(), source };
    let motion = retarget(&clip, r).map_err(err)?;
    let bones = bone_lengths(&clip, r).map_err(err)?;
    validate(id, &motion)?;
    Ok(Loaded { motion, rig: rig_name, bones: Some(bones) })
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
        let l = load(&path, Some(def.rig), &id)?;
        let meta = TakeMeta { rig: Some(l.rig.to_string()), ..TakeMeta::default() };
        out.push(Take { id, source: def.name.to_string(), licence: def.licence.to_string(), path, motion: l.motion, bones: l.bones, meta });
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
