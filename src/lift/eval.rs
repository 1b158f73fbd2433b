//! Evaluation of a checkpoint, two modes:
//!
//! (a) A split of a built data set, the held-out-subject **test** split by default (`val` on
//! request): every window of the split (every camera view; `max_windows` spreads a subset evenly
//! over the split), its `pose2d` (already the noisy normalised conditions) lifted and compared
//! with its `motion` target, grouped by the category of its take (manifest `takes`) with an `all`
//! row. Each window is lifted by every method on the same frames: the model offline with each
//! DDIM step count (one run, the same initial noise for each; 1 step from t = T−1 is the model's
//! own x0 estimate), the baselines of [`super::baselines`] (constant mean pose, nearest training
//! pose), and with [`eval_with`] the daemon's streaming loop. The targets are in each view's
//! camera-facing (gravity-view) frame, so MPJPE compares poses as the camera sees them.
//!
//! (b) A `mocapd.motion/1` ground-truth file paired with a keypoint file, lifted as `mocapd lift`
//! would (at each step count) and compared frame by frame (frames matched by number; frames the
//! lifter marked inferred are skipped; both sequences are put in their own canonical placement
//! (first compared frame faces +Z, root over the origin) before comparing). No baselines here.
//!
//! Frame rate (mode b): the offline lift works at the model's 30 fps and answers at the keypoint
//! file's own times ([`super::offline::lift_track`]), so a 60 or 25 fps file is compared frame
//! by frame like a 30 fps one. Through the streaming path, the file is thinned the way the daemon thins its
//! input ([`Track2d::decimate`]: a faster file to about 30 fps, a slower one as it is) and only
//! the frames kept are compared. Metrics in [`super::metrics`], the report in
//! [`super::eval_report`].
use std::path::PathBuf;
use std::time::Instant;

use candle_core::{Device, Tensor};
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::baselines::{at_root, mean_pose, PoseLibrary, LIBRARY_FRAMES};
use super::eval_report::{sampler_warnings, steps_name, EvalReport, Method, StreamingInfo, Tally, MEAN_POSE, NN_LOOKUP, STREAMING};
use super::metrics::{jitter, metrics, Joints};
use super::offline::{check_sampling, LiftError};
use crate::data::build::{bar, read_manifest, Manifest, Split};
use crate::data::DataError;
use crate::infer::{InferError, Lifter, DEFAULT_CHECKPOINT};
use crate::model::onnx::Engine;
use crate::motion::codec::{decode_frame, FEATURE_DIM};
use crate::motion::{Frame2d, MotionFileError, MotionFrame};
use crate::pose::performer::Track2d;
use crate::pose::record::Header;

/// Step counts evaluated by default: the 1-step x0 estimate and the daemon's few-step settings.
pub const DEFAULT_STEPS: [usize; 3] = [1, 4, 8];

/// Which camera views of each window are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Views {
    /// Every view (every sample of the split).
    All,
    /// The first view of each window (the default with streaming, which is slow).
    One,
}

impl Views {
    pub fn name(self) -> &'static str {
        match self {
            Views::All => "all",
            Views::One => "one",
        }
    }
}

impl std::str::FromStr for Views {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "all" => Ok(Views::All),
            "one" => Ok(Views::One),
            _ => Err(format!("--views must be `all` or `one`, got `{s}`")),
        }
    }
}

/// `--split`: `val` or `test` (training windows are not an evaluation).
pub fn parse_split(s: &str) -> Result<Split, String> {
    match s {
        "test" => Ok(Split::Test),
        "val" => Ok(Split::Val),
        _ => Err(format!("--split must be `test` (held-out subjects) or `val`, got `{s}`")),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EvalOptions {
    pub checkpoint: PathBuf,
    /// Built data set (mode a).
    pub data: PathBuf,
    /// Its split evaluated (mode a): test (default) or val.
    pub split: Split,
    /// Ground-truth motion file and its keypoint file (mode b); overrides `data`.
    pub gt: Option<(PathBuf, PathBuf)>,
    /// DDIM step counts, each evaluated on the same windows from the same noise (1 = the
    /// model's x0 estimate).
    pub steps: Vec<usize>,
    pub guidance: f64,
    /// Evaluate at most this many windows, spread evenly over the split (0 = all).
    pub max_windows: usize,
    /// Camera views per window; `None`: every view offline, one with streaming.
    pub views: Option<Views>,
    /// Library frames of the nearest-training-pose lookup (0: no lookup).
    pub library: usize,
    /// Windows sampled together (mode a).
    pub batch: usize,
    pub seed: u64,
    pub progress: bool,
    /// Which engine runs the denoiser's per-step forward.
    pub engine: Engine,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            checkpoint: DEFAULT_CHECKPOINT.into(),
            data: "data/train".into(),
            split: Split::Test,
            gt: None,
            steps: DEFAULT_STEPS.to_vec(),
            guidance: 0.0,
            max_windows: 0,
            views: None,
            library: LIBRARY_FRAMES,
            batch: 8,
            seed: 0,
            progress: false,
            engine: Engine::default(),
        }
    }
}

impl EvalOptions {
    /// Checks every option's range (the errors name the CLI flags): at least one step count,
    /// each in 1..=1000, guidance finite in [0, 20], batch ≥ 1, split val or test;
    /// `max_windows` 0 means all. [`eval`] calls it before loading anything, so the library
    /// refuses what the CLI refuses.
    pub fn validate(&self) -> Result<(), EvalError> {
        let bad = |m: String| EvalError::Lift(LiftError::BadOptions(m));
        if self.steps.is_empty() {
            return Err(bad("--steps needs at least one step count".into()));
        }
        for &s in &self.steps {
            check_sampling(s, self.guidance)?;
        }
        if self.batch == 0 {
            return Err(bad("batch must be at least 1 window".into()));
        }
        if self.split == Split::Train {
            return Err(bad("--split must be `test` (held-out subjects) or `val`, not the training windows".into()));
        }
        Ok(())
    }

    /// The step counts, ascending, each once.
    pub fn step_list(&self) -> Vec<usize> {
        let mut s = self.steps.clone();
        s.sort_unstable();
        s.dedup();
        s
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Lift(#[from] LiftError),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Motion(#[from] MotionFileError),
    #[error(transparent)]
    Infer(#[from] InferError),
    #[error("{0}")]
    Mismatch(String),
}

impl From<candle_core::Error> for EvalError {
    fn from(e: candle_core::Error) -> Self {
        EvalError::Infer(e.into())
    }
}

/// Lifts one whole 2D sequence to one frame per input frame (with its `inferred` flag).
pub type SequenceLift<'a> = dyn Fn(&Lifter, &Track2d) -> Result<Vec<MotionFrame>, LiftError> + 'a;

/// The streaming path (the daemon's loop) as one more method, with its settings for the report.
pub struct Streaming<'a> {
    pub hop: usize,
    pub steps: usize,
    pub lift: &'a SequenceLift<'a>,
}

fn joints_of(rows: &[Vec<f32>]) -> Vec<Joints> {
    rows.iter().map(|r| decode_frame(r).joints()).collect()
}

/// Runs the evaluation (see the module docs).
pub fn eval(opts: &EvalOptions) -> Result<EvalReport, EvalError> {
    eval_with(opts, None)
}

/// Runs the evaluation, with the streaming path as one more method when given (each window, or
/// the whole keypoint file, lifted through it).
pub fn eval_with(opts: &EvalOptions, streaming: Option<&Streaming>) -> Result<EvalReport, EvalError> {
    opts.validate()?;
    let lifter = Lifter::load(&opts.checkpoint)?.with_engine(opts.engine, None)?;
    let t0 = Instant::now();
    let mut report = match &opts.gt {
        Some((gt, kp)) => super::eval_file::eval_file(&lifter, gt, kp, opts, streaming)?,
        None => eval_split(&lifter, opts, streaming)?,
    };
    report.seconds = t0.elapsed().as_secs_f64();
    report.warnings = sampler_warnings(&report);
    Ok(report)
}

/// A held-out clip's 2D conditions (`S × 17 × 3` values, already normalised) as a track at
/// `fps`; a frame with no confident joint counts as unseen.
fn clip_track(pose: &[f32], fps: f64) -> Track2d {
    let keypoints: Vec<Frame2d> =
        pose.chunks_exact(17 * 3).map(|f| std::array::from_fn(|j| [f[3 * j], f[3 * j + 1], f[3 * j + 2]])).collect();
    let n = keypoints.len();
    Track2d {
        header: Header::new(fps, 0, 0, "eval"),
        frame: (0..n as u64).collect(),
        t: (0..n).map(|i| i as f64 / fps).collect(),
        seen: keypoints.iter().map(|k| k.iter().any(|p| p[2] > 0.0)).collect(),
        keypoints,
        fallback_id: None,
    }
}

/// `want` of `candidates` spread evenly (all of them when `want` is 0 or more than there are).
pub fn spread(candidates: &[usize], want: usize) -> Vec<usize> {
    if want == 0 || want >= candidates.len() {
        return candidates.to_vec();
    }
    (0..want).map(|i| candidates[i * candidates.len() / want]).collect()
}

/// The category of take `take` (the manifest's, or `(source)` as in the build report).
fn category_of(m: &Manifest, take: i64) -> String {
    match usize::try_from(take).ok().and_then(|t| m.takes.get(t)) {
        Some(t) => t.meta.category.clone().unwrap_or_else(|| format!("({})", t.source)),
        None => "(unknown take)".into(),
    }
}

/// A shard file and the indices of its samples evaluated.
type ShardWindows = (PathBuf, Vec<u32>);

/// Checks the data set against the model and returns the split's windows: per shard, its file
/// and the selected sample indices; and the number of windows in the split.
fn select_windows(lifter: &Lifter, opts: &EvalOptions, m: &Manifest, views: Views) -> Result<(Vec<ShardWindows>, usize), EvalError> {
    if m.contract != lifter.contract {
        return Err(EvalError::Mismatch(format!(
            "the data set in {} was built under the {} motion contract, the model was trained under {}: evaluate it on a data set \
             built like its training set, or train a model on this one",
            opts.data.display(),
            m.contract,
            lifter.contract
        )));
    }
    if m.clip_len != lifter.frames() {
        return Err(EvalError::Mismatch(format!("data set clips have {} frames, the model {}", m.clip_len, lifter.frames())));
    }
    let shards: Vec<_> = m.shards.iter().filter(|sh| sh.split == opts.split).collect();
    let total: usize = shards.iter().map(|sh| sh.samples).sum();
    if total == 0 {
        let hint = if opts.split == Split::Test {
            " (the test split holds the held-out CMU subjects: build with the CMU corpus, `--bvh-dir`, or evaluate `--split val`)"
        } else {
            ""
        };
        return Err(EvalError::Mismatch(format!("{}: no {} windows{hint}", opts.data.display(), opts.split.name())));
    }
    // The views of a window are consecutive samples of its split (`data build`).
    let cameras = m.options.cameras.max(1);
    let candidates: Vec<usize> = (0..total).filter(|g| views == Views::All || g % cameras == 0).collect();
    let chosen = spread(&candidates, opts.max_windows);
    let mut out = Vec::new();
    let (mut start, mut k) = (0, 0);
    for sh in shards {
        let mut local = Vec::new();
        while k < chosen.len() && chosen[k] < start + sh.samples {
            local.push((chosen[k] - start) as u32);
            k += 1;
        }
        start += sh.samples;
        if !local.is_empty() {
            out.push((opts.data.join(&sh.file), local));
        }
    }
    Ok((out, total))
}

fn eval_split(lifter: &Lifter, opts: &EvalOptions, streaming: Option<&Streaming>) -> Result<EvalReport, EvalError> {
    let manifest = read_manifest(&opts.data)?;
    let s = lifter.frames();
    let views = opts.views.unwrap_or(if streaming.is_some() { Views::One } else { Views::All });
    let (shards, total) = select_windows(lifter, opts, &manifest, views)?;
    let wanted: usize = shards.iter().map(|(_, l)| l.len()).sum();
    let mean = mean_pose(&manifest, &opts.data)?;
    let library = PoseLibrary::build(&opts.data, &manifest, opts.library, opts.seed, opts.progress)?;
    let mut notes = Vec::new();
    if library.is_none() {
        notes.push(if opts.library == 0 {
            "NN lookup not run (library size 0)".into()
        } else {
            "NN lookup not run: no training frame".into()
        });
    }
    if views == Views::One {
        let why = if streaming.is_some() { "streaming is slow: " } else { "" };
        notes.push(format!("{why}one camera view per window (its first); --views all evaluates every view"));
    }
    let steps = opts.step_list();
    let mut names: Vec<String> = vec![MEAN_POSE.into()];
    if library.is_some() {
        names.push(NN_LOOKUP.into());
    }
    names.extend(steps.iter().map(|&k| steps_name(k)));
    if streaming.is_some() {
        names.push(STREAMING.into());
    }
    let mut seconds = vec![0.0f64; names.len()];
    let mut tally = Tally::new(names.clone());
    let pb = bar(opts.progress, wanted as u64, format!("eval {}: windows", opts.split.name()));
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let dev = Device::Cpu;
    for (path, local) in &shards {
        let t = candle_core::safetensors::load(path, &dev)?;
        let get = |k: &str| {
            t.get(k)
                .cloned()
                .ok_or_else(|| EvalError::from(DataError::BadDataset { path: path.clone(), reason: format!("no `{k}` tensor") }))
        };
        let (motion, pose, take) = (get("motion")?, get("pose2d")?, get("take")?);
        let n = motion.dim(0)?;
        if motion.dims() != [n, s, FEATURE_DIM]
            || pose.dims() != [n, s, 17, 3]
            || take.dims() != [n]
            || local.iter().any(|&i| i as usize >= n)
        {
            let reason = format!(
                "tensors motion {:?}, pose2d {:?}, take {:?}: not {n} samples of {s} frames",
                motion.dims(),
                pose.dims(),
                take.dims()
            );
            return Err(DataError::BadDataset { path: path.clone(), reason }.into());
        }
        for batch in local.chunks(opts.batch) {
            let idx = Tensor::from_vec(batch.to_vec(), batch.len(), &dev)?;
            let gt_rows = motion.index_select(&idx, 0)?.to_vec3::<f32>()?;
            let clips = pose.index_select(&idx, 0)?;
            let categories: Vec<String> = take
                .index_select(&idx, 0)?
                .to_dtype(candle_core::DType::I64)?
                .to_vec1::<i64>()?
                .iter()
                .map(|&t| category_of(&manifest, t))
                .collect();
            let gt: Vec<Vec<MotionFrame>> = gt_rows.iter().map(|w| w.iter().map(|r| decode_frame(r)).collect()).collect();
            let gt_joints: Vec<Vec<Joints>> = gt.iter().map(|w| w.iter().map(|f| f.joints()).collect()).collect();
            for (c, g) in categories.iter().zip(&gt_joints) {
                tally.window(c, g.len(), jitter(g));
            }
            let mut method = 0;
            let mut score = |tally: &mut Tally, pred: Vec<Vec<Joints>>, t0: Instant| {
                seconds[method] += t0.elapsed().as_secs_f64();
                for ((c, p), g) in categories.iter().zip(&pred).zip(&gt_joints) {
                    tally.score(c, method, &metrics(p, g));
                }
                method += 1;
            };
            let t0 = Instant::now();
            score(&mut tally, gt.iter().map(|w| w.iter().map(|f| at_root(&mean, f.root)).collect()).collect(), t0);
            if let Some(lib) = &library {
                let t0 = Instant::now();
                let nearest = lib.nearest(&clips.flatten_all()?.to_vec1::<f32>()?)?;
                let pred = gt.iter().enumerate().map(|(w, g)| {
                    g.iter().enumerate().map(|(f, fr)| at_root(nearest[w * s + f].map_or(&mean, |i| lib.pose(i)), fr.root)).collect()
                });
                score(&mut tally, pred.collect(), t0);
            }
            // Every step count from the same noise: the same RNG state for each.
            let base = rng.clone();
            for (k, &n) in steps.iter().enumerate() {
                let t0 = Instant::now();
                let mut r = base.clone();
                let pz = lifter.sample_model_space(&clips, n, opts.guidance, None, &mut r)?;
                if k == 0 {
                    rng = r;
                }
                let pred = pz
                    .to_vec3::<f32>()?
                    .iter()
                    .map(|p| joints_of(&p.iter().map(|z| lifter.norm.denormalize(z)).collect::<Vec<_>>()))
                    .collect();
                score(&mut tally, pred, t0);
            }
            if let Some(st) = streaming {
                let t0 = Instant::now();
                let pred = clips
                    .flatten_from(1)?
                    .to_vec2::<f32>()?
                    .iter()
                    .map(|c| Ok((st.lift)(lifter, &clip_track(c, f64::from(manifest.fps)))?.iter().map(|p| p.joints()).collect()))
                    .collect::<Result<_, EvalError>>()?;
                score(&mut tally, pred, t0);
            }
            pb.inc(batch.len() as u64);
        }
    }
    pb.finish_and_clear();
    let rows = tally.rows();
    let frames = rows.first().map_or(0, |r| r.frames);
    Ok(EvalReport {
        mode: opts.split.name().into(),
        source: opts.data.clone(),
        checkpoint: opts.checkpoint.clone(),
        steps,
        guidance: opts.guidance,
        engine: lifter.engine().name().into(),
        seed: opts.seed,
        windows: wanted,
        windows_in_split: total,
        views: views.name().into(),
        frames,
        subjects: match opts.split {
            Split::Test => manifest.subjects.test.clone(),
            Split::Val => manifest.subjects.val.clone(),
            Split::Train => manifest.subjects.train.clone(),
        },
        methods: Method::list(&names, &seconds, streaming.map(|st| st.steps)),
        library: library.map(|l| l.info),
        streaming: streaming.map(|st| StreamingInfo { hop: st.hop, steps: st.steps }),
        rows,
        notes,
        warnings: vec![],
        seconds: 0.0,
    })
}
