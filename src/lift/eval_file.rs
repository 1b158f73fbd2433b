//! Mode (b) of `mocapd eval` ([`mod@super::eval`]): a `mocapd.motion/1` ground-truth file and its
//! keypoint file, lifted as `mocapd lift` would at each step count (and through the streaming
//! path when given) and compared frame by frame in their own canonical placements.
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use super::eval::{EvalError, EvalOptions, Streaming, Views};
use super::eval_report::{steps_name, EvalReport, Method, StreamingInfo, Tally, ALL, STREAMING};
use super::metrics::{jitter, metrics, Joints};
use super::offline::{lift_track, read_track, LiftOptions};
use crate::infer::Lifter;
use crate::motion::{read_motion, MotionFrame, Placement};

fn place_all(poses: &[MotionFrame]) -> Vec<Joints> {
    let Some(first) = poses.first() else { return vec![] };
    let pl = Placement::canonical_for(first);
    poses.iter().map(|p| pl.to_canonical(p).joints()).collect()
}

/// The lifted frames that have a ground-truth frame (by number) and were seen, both placed.
fn compare(lifted: &[MotionFrame], frames: &[u64], by_frame: &HashMap<u64, &MotionFrame>) -> (Vec<Joints>, Vec<Joints>) {
    let (mut pp, mut gp) = (Vec::new(), Vec::new());
    for (p, frame) in lifted.iter().zip(frames) {
        if let Some(g) = by_frame.get(frame).filter(|_| !p.inferred) {
            pp.push(*p);
            gp.push(**g);
        }
    }
    (place_all(&pp), place_all(&gp))
}

/// Scores the lift of `kp` against `gt_path` (see the module docs).
pub(super) fn eval_file(
    lifter: &Lifter,
    gt_path: &Path,
    kp: &Path,
    opts: &EvalOptions,
    streaming: Option<&Streaming>,
) -> Result<EvalReport, EvalError> {
    let (_, gt) = read_motion(gt_path)?;
    let track = read_track(kp)?;
    let by_frame: HashMap<u64, &MotionFrame> = gt.iter().map(|f| (f.frame, f)).collect();
    let steps = opts.step_list();
    let mut names: Vec<String> = steps.iter().map(|&k| steps_name(k)).collect();
    let mut seconds = Vec::new();
    let mut tally_rows = Vec::new();
    for &n in &steps {
        let t0 = Instant::now();
        let lo = LiftOptions {
            checkpoint: opts.checkpoint.clone(),
            steps: n,
            guidance: opts.guidance,
            seed: opts.seed,
            progress: opts.progress,
            engine: opts.engine,
            hop: (lifter.frames() * 2 / 3).max(1),
            ..Default::default()
        };
        let lifted = lift_track(lifter, &track, &lo)?.frames;
        seconds.push(t0.elapsed().as_secs_f64());
        tally_rows.push(compare(&lifted, &track.frame, &by_frame));
    }
    let mut notes = vec!["no baselines on a ground-truth file (they need a data set)".to_string()];
    if let Some(st) = streaming {
        let t0 = Instant::now();
        let thinned = track.decimate();
        let lifted = (st.lift)(lifter, &thinned)?;
        seconds.push(t0.elapsed().as_secs_f64());
        let (p, g) = compare(&lifted, &thinned.frame, &by_frame);
        notes.push(format!("streaming compares the {} frames the daemon keeps at about 30 fps", p.len()));
        tally_rows.push((p, g));
        names.push(STREAMING.into());
    }
    let frames = tally_rows.first().map_or(0, |(p, _)| p.len());
    if frames == 0 {
        return Err(EvalError::Mismatch(format!(
            "{} and {} share no frame numbers (with the performer seen)",
            gt_path.display(),
            kp.display()
        )));
    }
    let mut tally = Tally::new(names.clone());
    let gt_jitter = jitter(&tally_rows[0].1);
    tally.window(ALL, frames, gt_jitter);
    for (i, (p, g)) in tally_rows.iter().enumerate() {
        tally.score(ALL, i, &metrics(p, g));
    }
    let mut rows = tally.rows();
    rows.truncate(1);
    Ok(EvalReport {
        mode: "file".into(),
        source: gt_path.to_path_buf(),
        checkpoint: opts.checkpoint.clone(),
        steps,
        guidance: opts.guidance,
        engine: lifter.engine().name().into(),
        seed: opts.seed,
        windows: 1,
        windows_in_split: 1,
        views: Views::One.name().into(),
        frames,
        subjects: vec![],
        methods: Method::list(&names, &seconds, streaming.map(|st| st.steps)),
        library: None,
        streaming: streaming.map(|st| StreamingInfo { hop: st.hop, steps: st.steps }),
        rows,
        notes,
        warnings: vec![],
        seconds: 0.0,
    })
}
