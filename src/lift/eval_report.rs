//! The report of `mocapd eval` ([`EvalReport`]): per category of the evaluated split (and an
//! `all` row) the metrics of every method on the same frames (mean pose, nearest-training-pose
//! lookup, the model at each step count, the streaming loop), its text tables (one block per
//! metric: rows categories, columns methods) and its JSON, and the sampler check (a few-step
//! setting less accurate than the model's own 1-step x0 estimate is flagged).
use std::path::PathBuf;

use serde::Serialize;

use super::baselines::LibraryInfo;
use super::metrics::Metrics;

/// The row over every evaluated window.
pub const ALL: &str = "all";
pub const MEAN_POSE: &str = "mean pose";
pub const NN_LOOKUP: &str = "NN lookup";
pub const STREAMING: &str = "streaming";

/// The name of the model sampled with `steps` DDIM steps (`1-step`: its own x0 estimate).
pub fn steps_name(steps: usize) -> String {
    format!("{steps}-step")
}

/// One way of lifting the evaluated frames, and the seconds it took (metrics not included).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Method {
    pub name: String,
    /// DDIM steps (the model's offline settings and the streaming loop).
    pub steps: Option<usize>,
    pub seconds: f64,
}

impl Method {
    /// The methods named `names` (`N-step`: the model at N steps; `streaming`: the loop at
    /// `streaming_steps`), with their seconds.
    pub fn list(names: &[String], seconds: &[f64], streaming_steps: Option<usize>) -> Vec<Method> {
        let steps = |n: &str| n.strip_suffix("-step").and_then(|k| k.parse().ok()).or(streaming_steps.filter(|_| n == STREAMING));
        names.iter().zip(seconds).map(|(n, &s)| Method { name: n.clone(), steps: steps(n), seconds: s }).collect()
    }
}

/// One method's metrics in one row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub method: String,
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// One category of the split (or `all`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryRow {
    pub category: String,
    pub windows: usize,
    pub frames: usize,
    /// Every method's metrics (window-weighted means of per-window metrics), in method order.
    pub scores: Vec<Scored>,
    /// Jitter of the ground truth, for reference.
    pub gt_jitter_mm: f32,
}

impl CategoryRow {
    pub fn score(&self, method: &str) -> Option<&Metrics> {
        self.scores.iter().find(|s| s.method == method).map(|s| &s.metrics)
    }
}

/// The streaming loop's settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamingInfo {
    pub hop: usize,
    pub steps: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// `test` or `val` (a split of a built data set), or `file` (a ground-truth motion file).
    pub mode: String,
    /// The data set (split modes) or the ground-truth file.
    pub source: PathBuf,
    pub checkpoint: PathBuf,
    /// DDIM step counts of the offline model (1 = its own x0 estimate), same noise for each.
    pub steps: Vec<usize>,
    pub guidance: f64,
    /// Engine of the per-step forward (`candle` or `onnxruntime`).
    pub engine: String,
    pub seed: u64,
    /// Windows evaluated, one sample (camera view of a window) each; 1 in file mode.
    pub windows: usize,
    /// Samples in the split (windows × camera views).
    pub windows_in_split: usize,
    /// `all` (every camera view of a window) or `one` (its first view).
    pub views: String,
    pub frames: usize,
    /// The split's CMU subjects.
    pub subjects: Vec<u32>,
    pub methods: Vec<Method>,
    /// The nearest-training-pose lookup's library (`None`: no lookup).
    pub library: Option<LibraryInfo>,
    pub streaming: Option<StreamingInfo>,
    /// `all` first, then the categories, most windows first.
    pub rows: Vec<CategoryRow>,
    pub notes: Vec<String>,
    /// The sampler check's findings ([`sampler_warnings`]).
    pub warnings: Vec<String>,
    pub seconds: f64,
}

impl EvalReport {
    /// The `all` row.
    pub fn all(&self) -> Option<&CategoryRow> {
        self.rows.iter().find(|r| r.category == ALL)
    }
    pub fn row(&self, category: &str) -> Option<&CategoryRow> {
        self.rows.iter().find(|r| r.category == category)
    }
}

/// Sums of per-window metrics.
#[derive(Debug, Clone, Copy, Default)]
struct Sum {
    n: usize,
    mpjpe: f64,
    pa: f64,
    accel: f64,
    jitter: f64,
    skate: (f64, usize),
    skate_gt: (f64, usize),
}

impl Sum {
    fn add(&mut self, m: &Metrics) {
        self.n += 1;
        self.mpjpe += f64::from(m.mpjpe_mm);
        self.pa += f64::from(m.pa_mpjpe_mm);
        self.accel += f64::from(m.accel_error_mm);
        self.jitter += f64::from(m.jitter_mm);
        for (s, v) in [(&mut self.skate, m.foot_skate), (&mut self.skate_gt, m.foot_skate_gt)] {
            if let Some(v) = v {
                *s = (s.0 + f64::from(v), s.1 + 1);
            }
        }
    }
    fn mean(&self) -> Metrics {
        let n = self.n.max(1) as f64;
        let opt = |(s, k): (f64, usize)| (k > 0).then(|| (s / k as f64) as f32);
        Metrics {
            mpjpe_mm: (self.mpjpe / n) as f32,
            pa_mpjpe_mm: (self.pa / n) as f32,
            accel_error_mm: (self.accel / n) as f32,
            jitter_mm: (self.jitter / n) as f32,
            foot_skate: opt(self.skate),
            foot_skate_gt: opt(self.skate_gt),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct CategorySum {
    windows: usize,
    frames: usize,
    gt_jitter: f64,
    methods: Vec<Sum>,
}

/// Per-category sums while the windows are scored.
#[derive(Debug, Clone)]
pub struct Tally {
    methods: Vec<String>,
    categories: Vec<(String, CategorySum)>,
}

impl Tally {
    pub fn new(methods: Vec<String>) -> Self {
        Self { methods, categories: vec![] }
    }

    pub fn methods(&self) -> &[String] {
        &self.methods
    }

    /// The `all` row's index and the category's (once when the category is `all`).
    fn entries(&mut self, category: &str) -> Vec<usize> {
        let n = self.methods.len();
        let mut at = |name: &str| match self.categories.iter().position(|(c, _)| c == name) {
            Some(i) => i,
            None => {
                self.categories.push((name.to_string(), CategorySum { methods: vec![Sum::default(); n], ..Default::default() }));
                self.categories.len() - 1
            }
        };
        let (a, c) = (at(ALL), at(category));
        if a == c {
            vec![a]
        } else {
            vec![a, c]
        }
    }

    /// One window of `category`: its frames and the ground truth's jitter.
    pub fn window(&mut self, category: &str, frames: usize, gt_jitter_mm: f32) {
        for i in self.entries(category) {
            let c = &mut self.categories[i].1;
            c.windows += 1;
            c.frames += frames;
            c.gt_jitter += f64::from(gt_jitter_mm);
        }
    }

    /// Method `method`'s metrics on one window of `category`.
    pub fn score(&mut self, category: &str, method: usize, m: &Metrics) {
        for i in self.entries(category) {
            self.categories[i].1.methods[method].add(m);
        }
    }

    /// The rows: `all` first, then the categories (most windows first, then by name).
    pub fn rows(&self) -> Vec<CategoryRow> {
        let mut rows: Vec<CategoryRow> = self
            .categories
            .iter()
            .map(|(name, c)| CategoryRow {
                category: name.clone(),
                windows: c.windows,
                frames: c.frames,
                scores: self.methods.iter().zip(&c.methods).map(|(m, s)| Scored { method: m.clone(), metrics: s.mean() }).collect(),
                gt_jitter_mm: (c.gt_jitter / c.windows.max(1) as f64) as f32,
            })
            .collect();
        rows.sort_by(|a, b| {
            (b.category == ALL).cmp(&(a.category == ALL)).then(b.windows.cmp(&a.windows)).then(a.category.cmp(&b.category))
        });
        rows
    }
}

/// Every few-step setting whose MPJPE (`all` row) is worse than the 1-step x0 estimate's.
pub fn sampler_warnings(r: &EvalReport) -> Vec<String> {
    let Some(all) = r.all() else { return vec![] };
    let Some(one) = all.score(&steps_name(1)) else { return vec![] };
    r.steps
        .iter()
        .filter(|&&k| k > 1)
        .filter_map(|&k| {
            let m = all.score(&steps_name(k))?;
            (m.mpjpe_mm > one.mpjpe_mm).then(|| {
                format!(
                    "WARNING: {k}-step sampling is less accurate than the model's own 1-step x0 estimate (MPJPE {:.1} mm vs {:.1} mm on the same windows and noise): the sampler is hurting",
                    m.mpjpe_mm, one.mpjpe_mm
                )
            })
        })
        .collect()
}

type Get = fn(&Metrics) -> Option<f32>;
type GroundTruth = Option<fn(&CategoryRow) -> Option<f32>>;

/// The text report's blocks: title, value, decimals, ground-truth reference column.
const METRICS: [(&str, Get, usize, GroundTruth); 5] = [
    ("MPJPE (mm; root-aligned, in the camera-facing frame)", |m| Some(m.mpjpe_mm), 1, None),
    ("PA-MPJPE (mm; per-frame similarity Procrustes)", |m| Some(m.pa_mpjpe_mm), 1, None),
    ("accel error (mm/frame²; root-relative)", |m| Some(m.accel_error_mm), 2, None),
    ("jitter (mm/frame³; world joints)", |m| Some(m.jitter_mm), 2, Some(|r| Some(r.gt_jitter_mm))),
    (
        "foot skate (share of grounded foot frame pairs sliding > 2.5 cm)",
        |m| m.foot_skate,
        3,
        Some(|r| r.scores.first().and_then(|s| s.metrics.foot_skate_gt)),
    ),
];

impl std::fmt::Display for EvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.mode.as_str() {
            "file" => format!("ground-truth file {}", self.source.display()),
            split => format!("{split} split of {}", self.source.display()),
        };
        let subjects = if self.subjects.is_empty() { String::new() } else { format!(", held-out subjects {:?}", self.subjects) };
        let windows = match (self.mode.as_str(), self.views.as_str()) {
            ("file", _) => String::new(),
            (_, "one") => format!("{} windows, one camera view each (the split: {} window views), ", self.windows, self.windows_in_split),
            _ => format!("{} of {} window views (every camera view), ", self.windows, self.windows_in_split),
        };
        writeln!(f, "eval: {what}{subjects}: {windows}{} frames, {:.1} s", self.frames, self.seconds)?;
        let steps: Vec<String> = self.steps.iter().map(|s| s.to_string()).collect();
        writeln!(
            f,
            "model: {} ({}, guidance {}, seed {}), DDIM steps {}; 1-step = the model's own x0 estimate (one step from t = T-1); \
             every step setting starts from the same noise",
            self.checkpoint.display(),
            self.engine,
            self.guidance,
            self.seed,
            steps.join(", ")
        )?;
        if let Some(l) = &self.library {
            writeln!(
                f,
                "baselines: mean pose = the train mean features decoded; NN lookup = the 3D pose of the nearest of {} training frames \
                 (2D over the query's joints with score >= {}; drawn with seed {} from {} of the {} training frames, those with every joint confident); \
                 both at the target's root",
                l.frames, l.min_confidence, l.seed, l.drawn, l.train_frames
            )?;
        }
        if let Some(s) = &self.streaming {
            writeln!(f, "streaming: the daemon's loop, {} DDIM steps, hop {} (frames between updates)", s.steps, s.hop)?;
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        let names: Vec<&str> = self.methods.iter().map(|m| m.name.as_str()).collect();
        for (title, get, digits, gt) in METRICS {
            writeln!(f, "\n{title}")?;
            write!(f, "{:<16} {:>8} {:>9}", "category", "windows", "frames")?;
            for n in &names {
                write!(f, " {n:>10}")?;
            }
            writeln!(f, "{}", if gt.is_some() { format!(" {:>12}", "ground truth") } else { String::new() })?;
            for r in &self.rows {
                write!(f, "{:<16} {:>8} {:>9}", r.category, r.windows, r.frames)?;
                let cell = |v: Option<f32>| v.map(|x| format!("{x:.digits$}")).unwrap_or_else(|| "n/a".into());
                for n in &names {
                    write!(f, " {:>10}", cell(r.score(n).and_then(get)))?;
                }
                writeln!(f, "{}", gt.map(|g| format!(" {:>12}", cell(g(r)))).unwrap_or_default())?;
            }
        }
        let secs: Vec<String> = self.methods.iter().map(|m| format!("{} {:.1}", m.name, m.seconds)).collect();
        let lib = self.library.as_ref().map(|l| format!(" (+ {:.1} to draw the NN library)", l.seconds)).unwrap_or_default();
        write!(f, "\nseconds: {}{lib}; total {:.1}", secs.join(", "), self.seconds)?;
        for w in &self.warnings {
            write!(f, "\n{w}")?;
        }
        Ok(())
    }
}
