//! The input stage: a named thread that turns a source into performer poses ([`Pose2d`]) for
//! the denoise loop. Video, cameras, streams and image directories go through the source
//! thread and the `PoseEstimator` (owned here, so ONNX Runtime runs beside the denoiser); a
//! `mocapd.keypoints/1` file is replayed as a frame-free source at its native rate.
//!
//! The pose queue is bounded and drops the OLDEST pose when the denoise loop falls behind
//! (counted in `Stats::pose_drops`).
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};

use super::stats::Stats;
use super::{PipelineError, StageSettings};
use crate::pose::performer::performer_track;
use crate::pose::record::KeypointReader;
use crate::pose::{PoseEstimator, PoseFrame};
use crate::source::{self, SourceSpec};
use crate::window::Pose2d;

/// What the input stage reports before it starts.
#[derive(Debug, Clone, Copy)]
pub struct InputInfo {
    pub fps: f64,
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
        let info = InputInfo { fps: header.fps, frames: Some(frames.len() as u64) };
        let handle = spawn("keypoints", Box::new(move || replay_keypoints(header, frames, queue, stop)))?;
        return Ok((handle, info));
    }
    let mut estimator = PoseEstimator::new(&settings.pose)?;
    let source = source::open(&spec, &settings.source)?;
    let si = source.info();
    let info = InputInfo { fps: si.fps, frames: si.frame_count };
    let handle = spawn(
        "pose",
        Box::new(move || {
            while !stop.load(Relaxed) {
                let frame = match source.recv_timeout(Duration::from_millis(100)) {
                    Ok(f) => f,
                    Err(crate::source::RecvTimeoutError::Timeout) => continue,
                    Err(crate::source::RecvTimeoutError::Disconnected) => break,
                };
                let t0 = Instant::now();
                match estimator.estimate(&frame.image, frame.seq, frame.t) {
                    Ok(pf) => {
                        queue.stats.record_pose(t0.elapsed());
                        queue.stats.people.store(pf.people.len() as u64, Relaxed);
                        queue.stats.source_drops.store(source.stats().frames_dropped, Relaxed);
                        if !queue.send(to_pose2d(&pf, frame.captured)) {
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

/// Releases each recorded pose at its media time, stamped as captured at release.
fn replay_keypoints(header: crate::pose::record::Header, frames: Vec<PoseFrame>, queue: PoseQueue, stop: Arc<AtomicBool>) {
    let people: Vec<u32> = frames.iter().map(|f| f.people.len() as u32).collect();
    let track = performer_track(header, &frames);
    let start = Instant::now();
    let t0 = track.t.first().copied().unwrap_or(0.0);
    for (i, &people) in people.iter().enumerate().take(track.len()) {
        let due = start + Duration::from_secs_f64((track.t[i] - t0).max(0.0));
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
            seq: track.frame[i],
            t: track.t[i],
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
