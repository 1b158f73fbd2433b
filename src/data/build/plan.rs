//! The build plan: which takes (real files, procedural takes, upper/lower-body mixes) go into
//! which split, with what augmentation and stride; the options check; seeds and progress bars.
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::manifest::{Split, TakeInfo, TakeKind};
use super::{BuildOptions, FPS};
use crate::data::error::DataError;
use crate::data::procedural::{self, ProceduralOptions};
use crate::data::sources;
use crate::motion::placement::canonicalize;
use crate::motion::Motion;

pub(super) struct PlannedTake {
    pub(super) info: TakeInfo,
    pub(super) licence: String,
    pub(super) motion: Motion,
    pub(super) augment: bool,
    pub(super) stride: usize,
}

pub(super) fn seed_for(seed: u64, a: u64, b: u64) -> u64 {
    // splitmix64 over the combination
    let mut z = seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(super) fn bar(show: bool, len: u64, msg: &'static str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({elapsed}, eta {eta})") {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(msg);
    pb
}

pub(super) fn check_options(o: &BuildOptions) -> Result<(), DataError> {
    let bad = |s: &str| Err(DataError::BadOptions(s.to_string()));
    if o.clip_len < 2 {
        return bad("clip_len must be at least 2");
    }
    if o.stride == 0 || o.procedural_stride == 0 {
        return bad("strides must be positive");
    }
    if o.cameras == 0 {
        return bad("cameras must be at least 1");
    }
    if o.shard_size == 0 {
        return bad("shard_size must be positive");
    }
    if o.speeds.is_empty() || o.speeds.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
        return bad("speeds must be positive, finite and not empty");
    }
    if !(0.0..1.0).contains(&o.val_fraction) {
        return bad("val_fraction must be in [0, 1)");
    }
    if !(o.procedural_minutes.is_finite() && o.procedural_minutes >= 0.0) {
        return bad("procedural_minutes must be >= 0");
    }
    Ok(())
}

/// Hold the last frame until the clip has `len` frames.
pub(super) fn pad_to(m: &Motion, len: usize) -> Motion {
    let mut out = m.clone();
    while out.len() < len {
        let (r, q) = (out.root[out.len() - 1], out.rotations[out.len() - 1]);
        out.root.push(r);
        out.rotations.push(q);
    }
    out
}

pub(super) fn split_indices(n: usize, frac: f32, rng: &mut StdRng) -> Vec<bool> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let n_val = if n >= 2 { ((frac * n as f32).round() as usize).clamp(1, n - 1) } else { 0 };
    let mut val = vec![false; n];
    for &i in order.iter().take(n_val) {
        val[i] = true;
    }
    val
}

pub(super) fn plan(o: &BuildOptions, pb_show: bool) -> Result<Vec<PlannedTake>, DataError> {
    let minutes = |m: &Motion| m.len() as f32 / FPS / 60.0;
    // Real takes.
    let mut real = Vec::new();
    let defs: Vec<&sources::SourceDef> = sources::SOURCES
        .iter()
        .filter(|d| if o.sources.is_empty() { !d.opt_in || o.include_lafan1 } else { o.sources.iter().any(|s| s == d.name) })
        .filter(|d| !d.opt_in || o.include_lafan1)
        .collect();
    for s in &o.sources {
        if sources::source_def(s).is_none() {
            return Err(DataError::BadOptions(format!("unknown source `{s}`")));
        }
    }
    let files: Vec<(&sources::SourceDef, PathBuf)> = defs
        .iter()
        .flat_map(|d| {
            let mut f = sources::source_files(&o.raw_dir, d);
            if o.max_takes_per_source > 0 {
                f.truncate(o.max_takes_per_source);
            }
            f.into_iter().map(move |p| (*d, p))
        })
        .collect();
    let pb = bar(pb_show, files.len() as u64, "retarget");
    for (def, path) in files {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let stem = stem.strip_prefix("humanoid3d_").unwrap_or(&stem).to_string();
        let id = format!("{}/{}", def.name, stem);
        let (motion, _) = sources::load_file(&path, Some(def.rig), &id)?;
        real.push(PlannedTake {
            info: TakeInfo {
                id,
                source: def.name.into(),
                kind: TakeKind::Real,
                split: Split::Train,
                frames: motion.len(),
                minutes: minutes(&motion),
                clips: 0,
            },
            licence: def.licence.into(),
            motion,
            augment: true,
            stride: o.stride,
        });
        pb.inc(1);
    }
    pb.finish_and_clear();
    let mut rng = StdRng::seed_from_u64(seed_for(o.seed, 1, 0));
    let val = split_indices(real.len(), o.val_fraction, &mut rng);
    for (t, v) in real.iter_mut().zip(val) {
        t.info.split = if v { Split::Val } else { Split::Train };
    }
    // Procedural takes.
    let n_proc = (o.procedural_minutes * 60.0 / o.procedural.seconds.max(1.0)).ceil() as usize;
    let pb = bar(pb_show, n_proc as u64, "procedural");
    let mut procs = Vec::new();
    for i in 0..n_proc {
        let mut r = StdRng::seed_from_u64(seed_for(o.seed, 2, i as u64));
        let motion = procedural::generate(&ProceduralOptions { fps: FPS, ..o.procedural }, &mut r);
        procs.push(PlannedTake {
            info: TakeInfo {
                id: format!("procedural/{i:04}"),
                source: "procedural".into(),
                kind: TakeKind::Procedural,
                split: Split::Train,
                frames: motion.len(),
                minutes: minutes(&motion),
                clips: 0,
            },
            licence: "generated (mocapd)".into(),
            motion,
            augment: false,
            stride: o.procedural_stride,
        });
        pb.inc(1);
    }
    pb.finish_and_clear();
    let val = split_indices(procs.len(), o.val_fraction, &mut rng);
    for (t, v) in procs.iter_mut().zip(val) {
        t.info.split = if v { Split::Val } else { Split::Train };
    }
    // Mixes of training takes.
    let train_real: Vec<usize> = (0..real.len()).filter(|&i| real[i].info.split == Split::Train).collect();
    let mut mixes = Vec::new();
    if train_real.len() >= 2 {
        for i in 0..o.mixed_takes {
            // Weighted by length, so long takes are mixed as often as their minutes deserve.
            let total: usize = train_real.iter().map(|&i| real[i].motion.len()).sum();
            let pick = |rng: &mut StdRng| {
                let mut r = rng.random_range(0..total.max(1));
                for &i in &train_real {
                    if r < real[i].motion.len() {
                        return i;
                    }
                    r -= real[i].motion.len();
                }
                train_real[0]
            };
            let a = pick(&mut rng);
            let mut b = pick(&mut rng);
            if a == b {
                b = train_real[(train_real.iter().position(|&x| x == a).unwrap_or(0) + 1) % train_real.len()];
            }
            let la = canonicalize(&real[a].motion).map_err(|source| DataError::Motion { take: real[a].info.id.clone(), source })?;
            let ub = canonicalize(&real[b].motion).map_err(|source| DataError::Motion { take: real[b].info.id.clone(), source })?;
            let motion = procedural::mix(&la, &ub);
            let lic = if real[a].licence == real[b].licence {
                real[a].licence.clone()
            } else {
                format!("{}; {}", real[a].licence, real[b].licence)
            };
            mixes.push(PlannedTake {
                info: TakeInfo {
                    id: format!("mix/{i:03}:{}+{}", real[a].info.id, real[b].info.id),
                    source: "mixed".into(),
                    kind: TakeKind::Mixed,
                    split: Split::Train,
                    frames: motion.len(),
                    minutes: minutes(&motion),
                    clips: 0,
                },
                licence: lic,
                motion,
                augment: true,
                stride: o.stride,
            });
        }
    }
    let mut all = real;
    all.extend(procs);
    all.extend(mixes);
    Ok(all)
}

