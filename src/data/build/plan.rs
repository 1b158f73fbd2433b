//! The build plan: which takes (real files, procedural takes, upper/lower-body mixes) go into
//! which split, with what augmentation and stride; the real takes left out and why; the options
//! check; seeds and progress bars.
use std::collections::HashSet;
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::manifest::{ProceduralCap, RejectedTake, Split, SplitSubjects, TakeInfo, TakeKind};
use super::{BuildOptions, FPS};
use crate::data::cmu;
use crate::data::error::DataError;
use crate::data::procedural::{self, ProceduralOptions};
use crate::data::retarget::{self, CheckLimits};
use crate::data::rigs::{self, RigMap};
use crate::data::sources::{self, TakeMeta};
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

/// A progress bar on stderr (hidden without `show`): the message, the bar, counts and time left.
pub(crate) fn bar(show: bool, len: u64, msg: impl Into<std::borrow::Cow<'static, str>>) -> ProgressBar {
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

/// What [`plan`] decided: the takes, the real takes it left out, the CMU subjects per split and
/// the procedural cap.
pub(super) struct Planned {
    pub(super) takes: Vec<PlannedTake>,
    pub(super) rejected: Vec<RejectedTake>,
    pub(super) subjects: SplitSubjects,
    pub(super) procedural_cap: Option<ProceduralCap>,
}

/// One real file to load: where from, the rig (`None`: detect), metadata.
struct RealFile {
    path: PathBuf,
    /// Id while loading (messages); the final id is `<rig or source>/<stem>`.
    label: String,
    stem: String,
    /// Fetched source name, `None` for a `--bvh-dir` file.
    fetched: Option<&'static str>,
    rig: Option<RigMap>,
    licence: String,
    meta: TakeMeta,
}

pub(super) fn plan(o: &BuildOptions, pb_show: bool) -> Result<Planned, DataError> {
    // Real takes: fetched sources, then the BVH folders.
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
    let mut rejected = Vec::new();
    let mut dir_files = Vec::new();
    for dir in &o.bvh_dirs {
        let mut entries = cmu::list_dir(dir)?;
        if o.max_takes_per_source > 0 {
            entries.truncate(o.max_takes_per_source);
        }
        let name = dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned());
        for e in entries {
            let stem = e.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let rig = match e.skeleton.as_deref() {
                None => None,
                Some(sk) => match rigs::rig(sk) {
                    // Trimmed corpus files have no calibration frame left to skip.
                    Some(r) => Some(RigMap { skip_frames: if e.trimmed { 0 } else { r.skip_frames }, ..*r }),
                    None => {
                        let reason = format!("unknown skeleton `{sk}` in {} (known: {})", cmu::MANIFEST_FILE, rigs::rig_names());
                        rejected.push(RejectedTake { id: format!("{name}/{}", e.rel), file: e.path.clone(), reason });
                        continue;
                    }
                },
            };
            let licence =
                e.licence.clone().unwrap_or_else(|| format!("BVH folder {}: licence not stated (check before shipping)", dir.display()));
            let meta = TakeMeta {
                rig: e.skeleton.clone(),
                file: Some(e.rel.clone()),
                subject: e.subject,
                trial: e.trial,
                category: e.category.clone(),
                description: e.description.clone(),
                licence: e.licence.clone(),
            };
            dir_files.push(RealFile { path: e.path, label: format!("{name}/{}", e.rel), stem, fetched: None, rig, licence, meta });
        }
    }
    // CMU subjects and trials in the folders: the subject split applies to fetched CMU files too,
    // and a fetched file that a folder also has is left out (the folder's copy is used).
    let in_dirs: HashSet<(u32, u32)> = dir_files.iter().filter_map(|f| Some((f.meta.subject?, f.meta.trial?))).collect();
    let by_subject = dir_files.iter().any(|f| f.meta.subject.is_some());
    let mut files = Vec::new();
    for d in &defs {
        let mut f = sources::source_files(&o.raw_dir, d);
        if o.max_takes_per_source > 0 {
            f.truncate(o.max_takes_per_source);
        }
        for path in f {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let stem = stem.strip_prefix("humanoid3d_").unwrap_or(&stem).to_string();
            let st = if d.name == "cmu" { cmu::subject_trial_from_stem(&stem) } else { None };
            if let Some((subject, trial)) = st.filter(|st| in_dirs.contains(st)) {
                let reason = format!("also in a --bvh-dir folder (CMU subject {subject}, trial {trial}): the folder's copy is used");
                rejected.push(RejectedTake { id: format!("{}/{stem}", d.name), file: path, reason });
                continue;
            }
            let meta = TakeMeta {
                subject: st.filter(|_| by_subject).map(|s| s.0),
                trial: st.filter(|_| by_subject).map(|s| s.1),
                ..TakeMeta::default()
            };
            let label = format!("{}/{}", d.name, stem);
            files.push(RealFile { path, label, stem, fetched: Some(d.name), rig: Some(*d.rig), licence: d.licence.into(), meta });
        }
    }
    files.extend(dir_files);
    let limits = CheckLimits::default();
    let mut real = Vec::new();
    let mut ids = HashSet::new();
    let pb = bar(pb_show, files.len() as u64, "retarget");
    for f in files {
        let loaded = sources::load(&f.path, f.rig.as_ref(), &f.label);
        pb.inc(1);
        let l = match loaded {
            Ok(l) => l,
            Err(e) => {
                rejected.push(RejectedTake { id: f.label, file: f.path, reason: e.to_string() });
                continue;
            }
        };
        let id = match f.fetched {
            Some(name) => format!("{name}/{}", f.stem),
            None => {
                let base = format!("{}/{}", f.meta.rig.as_deref().unwrap_or(l.rig), f.stem);
                let mut id = base.clone();
                let mut k = 2;
                while ids.contains(&id) {
                    id = format!("{base}~{k}");
                    k += 1;
                }
                id
            }
        };
        if let Err(reason) = retarget::check(&l.motion, &limits) {
            rejected.push(RejectedTake { id, file: f.path, reason });
            continue;
        }
        ids.insert(id.clone());
        let source = f.fetched.map_or_else(|| f.meta.rig.clone().unwrap_or_else(|| l.rig.to_string()), str::to_string);
        let meta = TakeMeta { rig: Some(f.meta.rig.clone().unwrap_or_else(|| l.rig.to_string())), ..f.meta };
        real.push(PlannedTake {
            info: TakeInfo {
                id,
                source,
                kind: TakeKind::Real,
                split: Split::Train,
                frames: l.motion.len(),
                minutes: minutes(&l.motion),
                clips: 0,
                meta,
                bone_lengths: l.bones.map(|b| b.to_vec()),
            },
            licence: f.licence,
            motion: l.motion,
            augment: true,
            stride: o.stride,
        });
    }
    pb.finish_and_clear();
    // Takes of a CMU subject: whole subjects per split (crate::data::cmu). The others: a seeded
    // split by take.
    let mut rng = StdRng::seed_from_u64(seed_for(o.seed, 1, 0));
    let by_take: Vec<usize> = (0..real.len()).filter(|&i| real[i].info.meta.subject.is_none()).collect();
    let val = split_indices(by_take.len(), o.val_fraction, &mut rng);
    for (&i, v) in by_take.iter().zip(val) {
        real[i].info.split = if v { Split::Val } else { Split::Train };
    }
    let mut subjects = SplitSubjects::default();
    for t in &mut real {
        let Some(s) = t.info.meta.subject else { continue };
        let (split, list) = match cmu::subject_split(s) {
            cmu::HeldOut::Train => (Split::Train, &mut subjects.train),
            cmu::HeldOut::Val => (Split::Val, &mut subjects.val),
            cmu::HeldOut::Test => (Split::Test, &mut subjects.test),
        };
        t.info.split = split;
        if !list.contains(&s) {
            list.push(s);
        }
    }
    for list in [&mut subjects.train, &mut subjects.val, &mut subjects.test] {
        list.sort_unstable();
    }
    // Procedural motion: at most `max_procedural_share` of the training minutes when BVH folders
    // gave takes.
    let mut procedural_minutes = o.procedural_minutes;
    let mut procedural_cap = None;
    let share = o.max_procedural_share;
    if real.iter().any(|t| t.info.meta.file.is_some()) && share > 0.0 && share < 1.0 {
        let train_real: f32 = real.iter().filter(|t| t.info.split == Split::Train).map(|t| t.info.minutes).sum();
        let cap = train_real * share / (1.0 - share) / (1.0 - o.val_fraction);
        if procedural_minutes > cap {
            procedural_cap = Some(ProceduralCap { requested: procedural_minutes, used: cap, share, train_real_minutes: train_real });
            procedural_minutes = cap;
        }
    }
    // Procedural takes.
    let n_proc = procedural_minutes * 60.0 / o.procedural.seconds.max(1.0);
    let n_proc = if procedural_cap.is_some() { n_proc.floor() } else { n_proc.ceil() } as usize;
    let pb = bar(pb_show, n_proc as u64, "procedural");
    let mut procs = Vec::new();
    for i in 0..n_proc {
        let mut r = StdRng::seed_from_u64(seed_for(o.seed, 2, i as u64));
        let motion = procedural::generate(&ProceduralOptions { fps: FPS, ..o.procedural }, &mut r);
        procs.push(PlannedTake {
            info: generated_take(format!("procedural/{i:04}"), "procedural", TakeKind::Procedural, &motion),
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
                info: generated_take(format!("mix/{i:03}:{}+{}", real[a].info.id, real[b].info.id), "mixed", TakeKind::Mixed, &motion),
                licence: lic,
                motion,
                augment: true,
                stride: o.stride,
            });
        }
    }
    let mut takes = real;
    takes.extend(procs);
    takes.extend(mixes);
    Ok(Planned { takes, rejected, subjects, procedural_cap })
}

/// Length of a 30 fps clip in minutes.
fn minutes(m: &Motion) -> f32 {
    m.len() as f32 / FPS / 60.0
}

/// The manifest entry of a take mocapd made (procedural or mixed): training only, no metadata.
fn generated_take(id: String, source: &str, kind: TakeKind, motion: &Motion) -> TakeInfo {
    TakeInfo {
        id,
        source: source.into(),
        kind,
        split: Split::Train,
        frames: motion.len(),
        minutes: minutes(motion),
        clips: 0,
        meta: TakeMeta::default(),
        bone_lengths: None,
    }
}
