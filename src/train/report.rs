//! What a run leaves in its folder besides the checkpoint: `log.jsonl` (one [`LogRecord`] per
//! line), `loss.png` (train loss parts and val loss vs step, log-scale y, drawn with OpenCV) and
//! `model-card.md`; [`plot_lines`] also draws the run comparison of [`super::compare`].
use std::io::Write;
use std::path::Path;

use opencv::core::{Mat, Point, Scalar, Vector, CV_8UC3};
use opencv::{imgcodecs, imgproc};
use serde::{Deserialize, Serialize};

use super::trainer::TrainError;

/// One line of `log.jsonl`: train averages since the last line; val metrics when measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    pub step: usize,
    /// Seconds of training so far (all sessions).
    pub time: f64,
    pub lr: f64,
    pub loss: f32,
    pub x0: f32,
    pub vel: f32,
    pub joints: f32,
    pub foot: f32,
    pub samples_per_s: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_loss: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_x0: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_joints: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_mpjpe_mm: Option<f32>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
    move |source| TrainError::Io { path: path.into(), source }
}

pub fn append_log(path: &Path, r: &LogRecord) -> Result<(), TrainError> {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(io(path))?;
    let line = serde_json::to_string(r).map_err(|e| TrainError::Data(e.to_string()))?;
    writeln!(f, "{line}").map_err(io(path))
}

/// Records of an existing log with step ≤ `upto` (what a resumed run keeps).
pub fn read_log(path: &Path, upto: usize) -> Vec<LogRecord> {
    std::fs::read_to_string(path)
        .map(|t| t.lines().filter_map(|l| serde_json::from_str::<LogRecord>(l).ok()).filter(|r| r.step <= upto).collect())
        .unwrap_or_default()
}

/// Rewrites the log with `records` (drops lines past a resumed checkpoint).
pub fn rewrite_log(path: &Path, records: &[LogRecord]) -> Result<(), TrainError> {
    let mut text = String::new();
    for r in records {
        text.push_str(&serde_json::to_string(r).map_err(|e| TrainError::Data(e.to_string()))?);
        text.push('\n');
    }
    std::fs::write(path, text).map_err(io(path))
}

fn cv(e: opencv::Error) -> TrainError {
    TrainError::Plot(e.to_string())
}

/// One curve of a plot: name, colour (BGR) and (step, value) points.
pub struct Series {
    pub name: String,
    pub color: Scalar,
    pub points: Vec<(usize, f32)>,
    /// Drawn twice as thick.
    pub bold: bool,
}

/// Draws the loss curves (log10 y) into a PNG.
pub fn plot_losses(path: &Path, records: &[LogRecord]) -> Result<(), TrainError> {
    type Get = fn(&LogRecord) -> Option<f32>;
    let parts: [(&str, Get, Scalar); 6] = [
        ("loss", |r| Some(r.loss), Scalar::new(0.0, 0.0, 0.0, 0.0)),
        ("x0", |r| Some(r.x0), Scalar::new(200.0, 80.0, 0.0, 0.0)),
        ("vel", |r| Some(r.vel), Scalar::new(0.0, 150.0, 0.0, 0.0)),
        ("joints", |r| Some(r.joints), Scalar::new(0.0, 140.0, 255.0, 0.0)),
        ("foot", |r| Some(r.foot), Scalar::new(200.0, 0.0, 200.0, 0.0)),
        ("val loss", |r| r.val_loss, Scalar::new(0.0, 0.0, 230.0, 0.0)),
    ];
    let series: Vec<Series> = parts
        .iter()
        .map(|(name, get, color)| Series {
            name: name.to_string(),
            color: *color,
            points: records.iter().filter_map(|r| get(r).map(|v| (r.step, v))).collect(),
            bold: *name == "val loss",
        })
        .collect();
    write_png(path, &plot_lines("loss (log scale)", &series, true)?)
}

pub fn write_png(path: &Path, img: &Mat) -> Result<(), TrainError> {
    let ok = imgcodecs::imwrite(path, img, &Vector::new()).map_err(cv)?;
    if !ok {
        return Err(TrainError::Plot(format!("{}: imwrite failed", path.display())));
    }
    Ok(())
}

/// Line plot of `series` against step (900 × 560, legend on the right); `log_y` puts y on a
/// log10 scale with decade lines, else 5 linear ticks.
pub fn plot_lines(title: &str, series: &[Series], log_y: bool) -> Result<Mat, TrainError> {
    let (w, h, ml, mr, mt, mb) = (900, 560, 70, 150, 30, 50);
    let mut img = Mat::new_rows_cols_with_default(h, w, CV_8UC3, Scalar::all(255.0)).map_err(cv)?;
    let ok = |v: f32| v.is_finite() && (!log_y || v > 0.0);
    let vals: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| ok(*v)).map(|v| v as f64).collect();
    let max_step = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).max().unwrap_or(1).max(1) as f64;
    let tf = |v: f64| if log_y { v.max(1e-12).log10() } else { v };
    let (mut lo, mut hi) = vals.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(tf(*v)), b.max(tf(*v))));
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if log_y {
        (lo, hi) = (lo.floor(), hi.ceil().max(lo.floor() + 1.0));
    } else {
        let pad = ((hi - lo) * 0.05).max(1e-6);
        (lo, hi) = (lo - pad, hi + pad);
    }
    let (pw, ph) = ((w - ml - mr) as f64, (h - mt - mb) as f64);
    let px = |s: f64| ml + (s / max_step * pw) as i32;
    let py = |v: f64| mt + ((hi - tf(v)) / (hi - lo) * ph) as i32;
    let black = Scalar::all(0.0);
    let grey = Scalar::all(210.0);
    let font = imgproc::FONT_HERSHEY_SIMPLEX;
    let text = |img: &mut Mat, s: &str, x: i32, y: i32| {
        imgproc::put_text(img, s, Point::new(x, y), font, 0.45, black, 1, imgproc::LINE_AA, false).map_err(cv)
    };
    let ticks: Vec<(f64, String)> = if log_y {
        ((lo as i32)..=(hi as i32)).map(|d| (10f64.powi(d), format!("1e{d}"))).collect()
    } else {
        let p = if hi - lo >= 20.0 {
            0
        } else if hi - lo >= 2.0 {
            1
        } else {
            3
        };
        (0..=5).map(|i| lo + (hi - lo) * i as f64 / 5.0).map(|v| (v, format!("{v:.p$}"))).collect()
    };
    for (v, label) in &ticks {
        let y = py(*v);
        imgproc::line(&mut img, Point::new(ml, y), Point::new(w - mr, y), grey, 1, imgproc::LINE_8, 0).map_err(cv)?;
        text(&mut img, label, 8, y + 5)?;
    }
    for i in 0..=5 {
        let s = max_step * i as f64 / 5.0;
        let x = px(s);
        imgproc::line(&mut img, Point::new(x, h - mb), Point::new(x, h - mb + 5), black, 1, imgproc::LINE_8, 0).map_err(cv)?;
        text(&mut img, &format!("{}", s.round() as u64), x - 15, h - mb + 22)?;
    }
    imgproc::line(&mut img, Point::new(ml, mt), Point::new(ml, h - mb), black, 1, imgproc::LINE_8, 0).map_err(cv)?;
    imgproc::line(&mut img, Point::new(ml, h - mb), Point::new(w - mr, h - mb), black, 1, imgproc::LINE_8, 0).map_err(cv)?;
    text(&mut img, "step", w / 2 - 60, h - 10)?;
    text(&mut img, title, ml, 20)?;
    for (k, s) in series.iter().enumerate() {
        let pts: Vec<Point> = s.points.iter().filter(|p| ok(p.1)).map(|p| Point::new(px(p.0 as f64), py(p.1 as f64))).collect();
        let thick = if s.bold { 2 } else { 1 };
        for p in pts.windows(2) {
            imgproc::line(&mut img, p[0], p[1], s.color, thick, imgproc::LINE_AA, 0).map_err(cv)?;
        }
        for p in pts.iter().take(if pts.len() == 1 { 1 } else { 0 }) {
            imgproc::circle(&mut img, *p, 3, s.color, -1, imgproc::LINE_AA, 0).map_err(cv)?;
        }
        let ly = mt + 10 + 22 * k as i32;
        imgproc::line(&mut img, Point::new(w - mr + 10, ly), Point::new(w - mr + 35, ly), s.color, 2, imgproc::LINE_AA, 0).map_err(cv)?;
        text(&mut img, &s.name, w - mr + 40, ly + 5)?;
    }
    Ok(img)
}

/// Everything the model card states.
pub struct CardInfo<'a> {
    pub manifest: &'a crate::data::build::Manifest,
    pub config: &'a super::TrainConfig,
    pub params: usize,
    pub step: usize,
    pub wall_s: f64,
    pub samples_per_s: f64,
    pub s_per_step: f64,
    pub last: Option<&'a LogRecord>,
    pub last_val: Option<&'a LogRecord>,
}

pub fn write_model_card(path: &Path, c: &CardInfo) -> Result<(), TrainError> {
    let m = c.manifest;
    let mut s = String::new();
    s.push_str("# mocapd denoiser — model card\n\n");
    s.push_str(&format!(
        "ViMo-style diffusion transformer lifting COCO-17 2D pose sequences to SMPL-24 motion (x0 prediction, 151-dim frames, {} frames per window). Checkpoint `checkpoint.safetensors` (format `mocapd.denoiser/1`, with target mean/std).\n\n",
        c.config.model.frames
    ));
    s.push_str("## Data\n\n");
    s.push_str(&format!(
        "- Minutes: real {:.2}, procedural {:.2}, mixed {:.2} (procedural share {:.0} %)\n- Train: {} takes, {} clips, {} samples; val: {} takes, {} clips, {} samples\n- Sources:\n",
        m.minutes_real, m.minutes_procedural, m.minutes_mixed, m.procedural_share * 100.0,
        m.train.takes, m.train.clips, m.train.samples, m.val.takes, m.val.clips, m.val.samples
    ));
    for src in &m.sources {
        s.push_str(&format!("  - {} ({:?}): {:.2} min, {} takes, licence: {}\n", src.name, src.kind, src.minutes, src.takes, src.licence));
    }
    let mc = c.config.model_config().ok();
    s.push_str("\n## Model\n\n");
    s.push_str(&format!("- Preset {:?}, FiLM {}, parameters {}\n", c.config.model.preset, c.config.model.film, c.params));
    if let Some(mc) = mc {
        s.push_str(&format!("- d={}, heads={}, blocks={}, cond drop {}\n", mc.d_model, mc.n_heads, mc.n_blocks, mc.cond_drop));
    }
    s.push_str("\n## Training\n\n");
    s.push_str(&format!(
        "- Steps {} of {}, batch {}, wall time {:.0} s ({:.2} h)\n- Throughput {:.1} samples/s, {:.3} s/step\n",
        c.step,
        c.config.schedule.steps,
        c.config.schedule.batch_size,
        c.wall_s,
        c.wall_s / 3600.0,
        c.samples_per_s,
        c.s_per_step
    ));
    if let Some(r) = c.last {
        s.push_str(&format!(
            "- Last train losses (step {}): total {:.5}, x0 {:.5}, vel {:.5}, joints {:.5}, foot {:.6}\n",
            r.step, r.loss, r.x0, r.vel, r.joints, r.foot
        ));
    }
    if let Some(v) = c.last_val {
        let f = |x: Option<f32>| x.map(|x| format!("{x:.5}")).unwrap_or_else(|| "-".into());
        s.push_str(&format!(
            "- Validation (step {}): loss {}, x0 {}, joints {}, MPJPE {} mm ({}-step DDIM, w = 0, root-relative)\n",
            v.step,
            f(v.val_loss),
            f(v.val_x0),
            f(v.val_joints),
            v.val_mpjpe_mm.map(|x| format!("{x:.1}")).unwrap_or_else(|| "-".into()),
            c.config.schedule.val_ddim_steps
        ));
    }
    s.push_str("\n## Config used\n\n```toml\n");
    s.push_str(&toml::to_string(c.config).unwrap_or_else(|e| format!("# could not serialise: {e}\n")));
    s.push_str("```\n");
    std::fs::write(path, s).map_err(io(path))
}
