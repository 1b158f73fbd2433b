//! The input stage: a named thread that turns a source into performer poses ([`Pose2d`]) for
//! the denoise loop. Video, cameras, streams and image directories go through the source
//! thread and the `PoseEstimator` (owned here, so ONNX Runtime runs beside the denoiser); a
//! `mocapd.keypoints/1` file is replayed as a frame-free source at its native rate.
//!
//! The pose queue is bounded and drops the OLDEST pose when the denoise loop falls behind
//! (counted in `Stats::pose_drops`).
//!
//! Falling behind (a busy machine): when newer frames of a live source (camera, stream, a file
//! at its native rate) already wait in the source's queue as the pose stage takes a frame, that
//! frame is stale. The stage estimates the newest one only and
//! gives each frame it skipped the performer's 2D interpolated in time between the poses
//! estimated before and after it (counted in `Stats::interpolated`, not a drop), so every frame
//! still reaches the denoiser, while the queue's wait no longer adds to the latency.
//!
//! Frame rate: the model works at 30 fps ([`crate::motion::MODEL_FPS`]). A source faster than
//! that (a 60 fps camera or file, a 60 fps keypoint file) is thinned BEFORE pose estimation by a
//! [`Decimator`]: a frame whose media time is closer than 1/30 s − 2 ms to the last frame kept is
//! skipped and counted in `Stats::decimated` (not a drop). A source at or below 30 fps (25 fps)
//! passes as it is: the denoise loop works on its frames, so the output then runs at the
//! input's rate (one motion frame per input frame, 25 fps; [`InputInfo::fps`] is the rate the
//! sinks are told).
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};

use super::stats::Stats;
use super::{PipelineError, StageSettings};
use crate::motion::Decimator;
use crate::pose::performer::performer_track;
use crate::pose::record::KeypointReader;
use crate::pose::{PoseEstimator, PoseFrame};
use crate::source::{self, SourceSpec};
use crate::window::Pose2d;

/// What the input stage reports before it starts.
#[derive(Debug, Clone, Copy)]
pub struct InputInfo {
    /// Rate of the poses sent on (after decimation): the source's up to 30 fps, about 30 fps
    /// above (`Decimator::output_fps`).
    pub fps: f64,
    /// Nominal rate of the source itself.
    pub source_fps: f64,
    /// Frames in the file, when known.
    pub frames: Option<u64>,
}

/// Sends with drop-oldest: a full queue loses its oldest pose, never the newest.
struct PoseQueue {
    tx: Sender<Pose2d>,
    rx: Receiver<Pose2d>,
    stats: Arc<Stats>,
}

impl PoseQueue {
    fn send(&self, mut p: Pose2d) -> bool {
        loop {
            match self.tx.try_send(p) {
                Ok(()) => return true,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(back)) => {
                    p = back;
                    if self.rx.try_recv().is_ok() {
                        self.stats.pose_drops.fetch_add(1, Relaxed);
                    }
                }
            }
        }
    }
}

fn to_pose2d(pf: &PoseFrame, captured: Instant) -> Pose2d {
    let person = pf.performer();
    let keypoints = match person {
        Some(p) => std::array::from_fn(|j| [p.keypoints[j].x, p.keypoints[j].y, p.keypoints[j].c]),
        None => [[0.0; 3]; 17],
    };
    Pose2d { seq: pf.frame, t: pf.t, captured, posed: Instant::now(), keypoints, seen: person.is_some(), people: pf.people.len() as u32 }
}

/// Starts the input thread for `input`; poses go to `tx` (with `rx` its receiver, for
/// drop-oldest). The thread ends at end of input or when `stop` is set.
pub fn spawn(
    input: &str,
    settings: &StageSettings,
    tx: Sender<Pose2d>,
    rx: Receiver<Pose2d>,
    stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
) -> Result<(JoinHandle<()>, InputInfo), PipelineError> {
    let mut spec: SourceSpec = input.parse()?;
    if let SourceSpec::ImageDir { fps, .. } = &mut spec {
        *fps = settings.image_fps;
    }
    let queue = PoseQueue { tx, rx, stats };
    let spawn = |name: &str, body: Box<dyn FnOnce() + Send>| {
        std::thread::Builder::new().name(name.into()).spawn(body).map_err(|e| PipelineError::Thread(name.into(), e))
    };
    if let SourceSpec::Keypoints(path) = &spec {
        let (header, frames) = KeypointReader::open(path)?.read_all()?;
        let info = InputInfo { fps: Decimator::output_fps(header.fps), source_fps: header.fps, frames: Some(frames.len() as u64) };
        let looped = settings.source.loop_file;
        let handle = spawn("keypoints", Box::new(move || replay_keypoints(header, frames, looped, queue, stop)))?;
        return Ok((handle, info));
    }
    let mut estimator = PoseEstimator::new(&settings.pose)?;
    let source = source::open(&spec, &settings.source)?;
    let si = source.info();
    let info = InputInfo { fps: Decimator::output_fps(si.fps), source_fps: si.fps, frames: si.frame_count };
    let mut decimator = Decimator::new(si.fps);
    // Only a live source's frames go stale; a file read as fast as the stage goes waits for it.
    let live = si.live;
    let handle = spawn(
        "pose",
        Box::new(move || {
            // The last pose estimated, the start of the next interpolation.
            let mut last: Option<Pose2d> = None;
            'frames: while !stop.load(Relaxed) {
                let mut frame = match source.recv_timeout(Duration::from_millis(100)) {
                    Ok(f) => f,
                    Err(crate::source::RecvTimeoutError::Timeout) => continue,
                    Err(crate::source::RecvTimeoutError::Disconnected) => break,
                };
                if !decimator.keep(frame.t) {
                    queue.stats.decimated.fetch_add(1, Relaxed);
                    continue;
                }
                // Newer frames waiting: this one is stale; keep its time, estimate the newest.
                let mut stale = Vec::new();
                while let Some(newer) = if live { source.recv_timeout(Duration::ZERO).ok() } else { None } {
                    if decimator.keep(newer.t) {
                        stale.push((frame.seq, frame.t, frame.captured));
                        frame = newer;
                    } else {
                        queue.stats.decimated.fetch_add(1, Relaxed);
                    }
                }
                let t0 = Instant::now();
                match estimator.estimate(&frame.image, frame.seq, frame.t) {
                    Ok(pf) => {
                        queue.stats.record_pose(t0.elapsed());
                        queue.stats.people.store(pf.people.len() as u64, Relaxed);
                        queue.stats.source_drops.store(source.stats().frames_dropped, Relaxed);
                        let now = to_pose2d(&pf, frame.captured);
                        for &(seq, t, captured) in &stale {
                            queue.stats.interpolated.fetch_add(1, Relaxed);
                            if !queue.send(interpolated(last.as_ref(), &now, seq, t, captured)) {
                                break 'frames;
                            }
                        }
                        last = Some(now.clone());
                        if !queue.send(now) {
                            break;
                        }
                    }
                    Err(e) => tracing::warn!("pose estimation failed on frame {}: {e}", frame.seq),
                }
            }
            queue.stats.source_drops.store(source.stats().frames_dropped, Relaxed);
        }),
    )?;
    Ok((handle, info))
}

/// The 2D of a frame the pose stage skipped (frame `seq` at media time `t`): the performer's
/// keypoints interpolated in time between the poses estimated `before` and `after` it, each
/// confidence the lower of the two; nobody in view unless both saw the performer.
fn interpolated(before: Option<&Pose2d>, after: &Pose2d, seq: u64, t: f64, captured: Instant) -> Pose2d {
    let base = Pose2d { seq, t, captured, keypoints: [[0.0; 3]; 17], seen: false, ..after.clone() };
    let Some(b) = before.filter(|b| b.seen && after.seen) else { return base };
    let span = after.t - b.t;
    let a = if span > 0.0 { ((t - b.t) / span).clamp(0.0, 1.0) as f32 } else { 1.0 };
    let keypoints = std::array::from_fn(|j| {
        let (p, q) = (b.keypoints[j], after.keypoints[j]);
        [p[0] + a * (q[0] - p[0]), p[1] + a * (q[1] - p[1]), p[2].min(q[2])]
    });
    Pose2d { keypoints, seen: true, ..base }
}

/// Releases each recorded pose at its media time, stamped as captured at release; a file
/// faster than 30 fps is thinned first (the frames skipped are counted, never waited for).
/// `looped`: plays the file again after its end (one frame interval later, frame numbers and
/// times continuing) until `stop`.
fn replay_keypoints(header: crate::pose::record::Header, frames: Vec<PoseFrame>, looped: bool, queue: PoseQueue, stop: Arc<AtomicBool>) {
    let people: Vec<u32> = frames.iter().map(|f| f.people.len() as u32).collect();
    let track = performer_track(header, &frames);
    let mut decimator = Decimator::new(track.fps());
    let start = Instant::now();
    let t0 = track.t.first().copied().unwrap_or(0.0);
    let n = people.len().min(track.len());
    if n == 0 {
        return;
    }
    // One lap: the file's span plus one frame interval; frame numbers continue past the last.
    let lap_s = track.t[n - 1] - t0 + 1.0 / track.fps().max(1.0);
    let lap_frames = track.frame[n - 1] + 1;
    for k in 0..if looped { usize::MAX } else { n } {
        let (lap, i) = (k / n, k % n);
        let people = people[i];
        let t = track.t[i] + lap as f64 * lap_s;
        if !decimator.keep(t) {
            queue.stats.decimated.fetch_add(1, Relaxed);
            continue;
        }
        let due = start + Duration::from_secs_f64((t - t0).max(0.0));
        while let Some(left) = due.checked_duration_since(Instant::now()) {
            if stop.load(Relaxed) {
                return;
            }
            std::thread::sleep(left.min(Duration::from_millis(20)));
        }
        if stop.load(Relaxed) {
            return;
        }
        let now = Instant::now();
        queue.stats.people.store(people as u64, Relaxed);
        let p = Pose2d {
            seq: track.frame[i] + lap as u64 * lap_frames,
            t,
            captured: now,
            posed: now,
            keypoints: track.keypoints[i],
            seen: track.seen[i],
            people,
        };
        if !queue.send(p) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pose::record::Header;
    use crate::pose::{Keypoint, Person};

    fn frames(fps: f64, n: usize) -> Vec<PoseFrame> {
        let person = Person { id: 1, score: 0.9, bbox: [0.0, 0.0, 10.0, 10.0], keypoints: [Keypoint { x: 5.0, y: 5.0, c: 0.9 }; 17] };
        (0..n)
            .map(|i| PoseFrame { frame: i as u64, t: i as f64 / fps, width: 64, height: 64, performer: None, people: vec![person.clone()] })
            .collect()
    }

    fn replay(fps: f64, n: usize) -> (Vec<Pose2d>, Arc<Stats>) {
        let (tx, rx) = crossbeam_channel::bounded(256);
        let stats = Arc::new(Stats::new());
        let queue = PoseQueue { tx, rx: rx.clone(), stats: Arc::clone(&stats) };
        replay_keypoints(Header::new(fps, 64, 64, "test"), frames(fps, n), false, queue, Arc::new(AtomicBool::new(false)));
        (rx.try_iter().collect(), stats)
    }

    #[test]
    fn a_skipped_frame_gets_the_2d_interpolated_between_its_neighbours() {
        let now = Instant::now();
        let pose = |seq: u64, x: f32, c: f32, seen: bool| Pose2d {
            seq,
            t: seq as f64 / 30.0,
            captured: now,
            posed: now,
            keypoints: [[x, 2.0 * x, c]; 17],
            seen,
            people: 1,
        };
        let (before, after) = (pose(10, 100.0, 0.9, true), pose(13, 130.0, 0.5, true));
        let p = interpolated(Some(&before), &after, 11, 11.0 / 30.0, now);
        assert_eq!((p.seq, p.seen, p.people), (11, true, 1));
        assert!((p.t - 11.0 / 30.0).abs() < 1e-12);
        let k = p.keypoints[5];
        assert!((k[0] - 110.0).abs() < 1e-3 && (k[1] - 220.0).abs() < 1e-3 && k[2] == 0.5, "{k:?}");
        // Nobody on either side, or no pose before (the first frames): nobody in view.
        for (b, a) in [(Some(&before), pose(13, 0.0, 0.0, false)), (None, after.clone())] {
            let p = interpolated(b, &a, 12, 0.4, now);
            assert!(!p.seen && p.keypoints.iter().all(|k| *k == [0.0; 3]), "{:?}", p.keypoints[0]);
        }
    }

    #[test]
    fn a_looped_replay_continues_frame_numbers_and_times_until_stopped() {
        let (tx, rx) = crossbeam_channel::bounded(1024);
        let stats = Arc::new(Stats::new());
        let queue = PoseQueue { tx, rx: rx.clone(), stats };
        let stop = Arc::new(AtomicBool::new(false));
        let h = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || replay_keypoints(Header::new(25.0, 64, 64, "test"), frames(25.0, 5), true, queue, stop))
        };
        // 5 frames at 25 fps: a lap is 0.2 s; let it run past two laps.
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Relaxed);
        h.join().unwrap();
        let poses: Vec<Pose2d> = rx.try_iter().collect();
        assert!(poses.len() >= 11, "{} poses in 0.5 s", poses.len());
        for (k, p) in poses.iter().enumerate() {
            assert_eq!(p.seq, k as u64);
            assert!((p.t - k as f64 / 25.0).abs() < 1e-9, "frame {k} at {}", p.t);
        }
    }

    #[test]
    fn keypoint_replay_thins_60_fps_to_30_and_keeps_25() {
        let (poses, stats) = replay(60.0, 24);
        assert_eq!(poses.iter().map(|p| p.seq).collect::<Vec<_>>(), (0..24).step_by(2).collect::<Vec<u64>>());
        assert_eq!((stats.decimated.load(Relaxed), stats.drops()), (12, 0));
        let (poses, stats) = replay(25.0, 10);
        assert_eq!((poses.len(), stats.decimated.load(Relaxed)), (10, 0));
        assert!((Decimator::output_fps(60.0) - 30.0).abs() < 1e-9 && Decimator::output_fps(25.0) == 25.0);
    }
}
