//! `mocapd bench`: replays a video or keypoint recording at its native rate through the whole
//! pipeline (VMC to a loopback receiver of its own) and reports glass-to-wire latency per frame
//! (capture → datagram sent), per-stage times, drops, output jitter, CPU time and memory, plus
//! a latency histogram image.
use std::net::UdpSocket;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::Error;
use crate::config::Settings;
use crate::pipeline::stats::{cpu_seconds, quantile, rss_mib};
use crate::pipeline::{histogram, Pipeline};
use crate::sink::vmc::VmcConfig;
use crate::source::Pacing;

pub struct BenchOptions {
    pub input: String,
    pub duration: Option<f64>,
    pub histogram: Option<PathBuf>,
}

/// p50/p95/p99/max of one measure, milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Spread {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Spread {
    fn of(v: &[f64]) -> Self {
        Self { p50: quantile(v, 0.5), p95: quantile(v, 0.95), p99: quantile(v, 0.99), max: v.iter().copied().fold(f64::NAN, f64::max) }
    }
}

/// The benchmark's findings.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub input: String,
    pub input_fps: f64,
    pub seconds: f64,
    pub frames_in: u64,
    pub frames_out: u64,
    pub frames_sent: usize,
    /// Capture → datagram sent.
    pub latency_ms: Spread,
    /// Capture → pose done (source queue + pose estimation).
    pub stage_pose_ms: Spread,
    /// Pose done → emitted (window wait, lookahead, denoising).
    pub stage_denoise_ms: Spread,
    /// Emitted → sent.
    pub stage_sink_ms: Spread,
    /// One pose estimation.
    pub pose_inference_ms: Spread,
    /// One denoise update (a window of DDIM steps).
    pub denoise_update_ms: Spread,
    pub updates: u64,
    pub dropped: Drops,
    /// Standard deviation of the interval between sent frames minus the source frame interval.
    pub output_jitter_ms: f64,
    pub cpu_seconds: f64,
    /// CPU time / wall time (1.0 = one core busy).
    pub cpu_cores: f64,
    pub rss_max_mib: f64,
    pub histogram: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Drops {
    pub source: u64,
    pub pose_queue: u64,
    pub window: u64,
    pub sinks: u64,
}

impl BenchReport {
    pub fn text(&self) -> String {
        let s = |x: &Spread| {
            if x.p50.is_nan() {
                "n/a (no samples: a keypoint file has no pose stage)".to_string()
            } else {
                format!("p50 {:6.1}  p95 {:6.1}  p99 {:6.1}  max {:6.1}", x.p50, x.p95, x.p99, x.max)
            }
        };
        format!(
            "bench {} ({:.1} fps, {:.1} s): {} poses in, {} frames out, {} sent, {} updates\n\
             latency ms (capture→sent)  {}\n\
             \x20 capture→pose done       {}\n\
             \x20 pose→emitted (denoise)  {}\n\
             \x20 emitted→sent            {}\n\
             \x20 pose inference          {}\n\
             \x20 denoise update          {}\n\
             dropped: source {}, pose queue {}, window {}, sinks {}\n\
             output jitter {:.1} ms; CPU {:.1} s ({:.2} cores); RSS max {:.0} MiB\n{}",
            self.input,
            self.input_fps,
            self.seconds,
            self.frames_in,
            self.frames_out,
            self.frames_sent,
            self.updates,
            s(&self.latency_ms),
            s(&self.stage_pose_ms),
            s(&self.stage_denoise_ms),
            s(&self.stage_sink_ms),
            s(&self.pose_inference_ms),
            s(&self.denoise_update_ms),
            self.dropped.source,
            self.dropped.pose_queue,
            self.dropped.window,
            self.dropped.sinks,
            self.output_jitter_ms,
            self.cpu_seconds,
            self.cpu_cores,
            self.rss_max_mib,
            self.histogram.as_ref().map(|h| format!("histogram: {}\n", h.display())).unwrap_or_default()
        )
    }
}

pub fn run(o: &BenchOptions, settings: &Settings) -> Result<BenchReport, Error> {
    let mut settings = settings.stages();
    settings.source.pacing = Pacing::Native;
    settings.source.loop_file = false;
    settings.pipeline.status_every = None;
    // The wire: a loopback receiver of our own that drains every datagram.
    let rx = UdpSocket::bind("127.0.0.1:0").map_err(|e| Error::Usage(format!("cannot bind a loopback receiver: {e}")))?;
    let target = rx.local_addr().map_err(|e| Error::Usage(e.to_string()))?.to_string();
    rx.set_read_timeout(Some(Duration::from_millis(200))).ok();
    let done = Arc::new(AtomicBool::new(false));
    let drain = {
        let done = Arc::clone(&done);
        std::thread::Builder::new().name("bench-recv".into()).spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !done.load(Relaxed) {
                let _ = rx.recv_from(&mut buf);
            }
        })
    }
    .map_err(|e| Error::Usage(format!("cannot start receiver: {e}")))?;
    let vmc = settings.pipeline.vmc.take().unwrap_or_default();
    settings.pipeline.vmc = Some(VmcConfig { target, ..vmc });

    let cpu0 = cpu_seconds();
    let stop = Arc::new(AtomicBool::new(false));
    let p = Pipeline::start(&o.input, &settings, Arc::clone(&stop))?;
    let t0 = Instant::now();
    let mut rss_max = rss_mib();
    while !p.is_finished() {
        std::thread::sleep(Duration::from_millis(100));
        rss_max = rss_max.max(rss_mib());
        if o.duration.is_some_and(|d| t0.elapsed().as_secs_f64() >= d) {
            p.stop();
        }
    }
    let (stats, fps) = (Arc::clone(&p.stats), p.fps);
    let run = p.wait().check()?;
    let cpu = cpu_seconds() - cpu0;
    done.store(true, Relaxed);
    let _ = drain.join();

    let samples = stats.samples();
    let col = |f: fn(&crate::pipeline::Sample) -> f64| samples.iter().map(f).collect::<Vec<f64>>();
    let latency = col(|s| s.latency_ms);
    let gaps: Vec<f64> = samples.windows(2).map(|w| (w[1].sent_s - w[0].sent_s) * 1e3 - 1e3 / fps).collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len().max(1) as f64;
    let jitter = (gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len().max(1) as f64).sqrt();
    let report = BenchReport {
        input: o.input.clone(),
        input_fps: fps,
        seconds: run.seconds,
        frames_in: run.frames_in,
        frames_out: run.frames_out,
        frames_sent: samples.len(),
        latency_ms: Spread::of(&latency),
        stage_pose_ms: Spread::of(&col(|s| s.pose_ms)),
        stage_denoise_ms: Spread::of(&col(|s| s.denoise_ms)),
        stage_sink_ms: Spread::of(&col(|s| s.sink_ms)),
        pose_inference_ms: Spread::of(&stats.pose_stage_ms()),
        denoise_update_ms: Spread::of(&stats.update_ms()),
        updates: stats.updates.load(Relaxed),
        dropped: Drops {
            source: stats.source_drops.load(Relaxed),
            pose_queue: stats.pose_drops.load(Relaxed),
            window: stats.window_skips.load(Relaxed),
            sinks: stats.sink_drops.load(Relaxed),
        },
        output_jitter_ms: jitter,
        cpu_seconds: cpu,
        cpu_cores: cpu / run.seconds.max(1e-9),
        rss_max_mib: rss_max,
        histogram: o.histogram.clone(),
    };
    let caption = format!(
        "mocapd bench: {} frames, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, {} dropped",
        samples.len(),
        report.latency_ms.p50,
        report.latency_ms.p95,
        report.latency_ms.p99,
        run.drops
    );
    if let Some(path) = &o.histogram {
        histogram::write(path, &latency, &caption)?;
    }
    Ok(report)
}
