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
use crate::pipeline::stats::{cpu_seconds, rss_mib, Histogram};
use crate::pipeline::{histogram, Pipeline};
use crate::sink::vmc::VmcConfig;
use crate::source::Pacing;

pub struct BenchOptions {
    pub input: String,
    /// Stop after this many seconds (`None`: the whole input).
    pub duration: Option<f64>,
    pub histogram: Option<PathBuf>,
}

impl BenchOptions {
    /// Checks the options' ranges (the errors name the CLI flags): a duration is finite and
    /// positive. [`run`] calls it before starting anything.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(d) = self.duration.filter(|d| !(d.is_finite() && *d > 0.0)) {
            return Err(Error::Usage(format!("--duration must be a finite number of seconds > 0, got {d}")));
        }
        Ok(())
    }
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
    /// From the run's bounded histogram: quantiles within 0.1 ms, the exact maximum (NaN when
    /// nothing was measured).
    fn of(h: &Histogram) -> Self {
        Self { p50: h.quantile(0.5), p95: h.quantile(0.95), p99: h.quantile(0.99), max: h.max() }
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
    pub frames_sent: u64,
    /// Frames of a source faster than the model's 30 fps skipped before pose estimation (not
    /// drops).
    pub decimated: u64,
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
    /// Standard deviation of the interval between sent frames (the source's frame interval is
    /// the ideal, constant part).
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
            "bench {} ({:.1} fps, {:.1} s): {} poses in, {} frames out, {} sent, {} updates, {} decimated (to 30 fps)\n\
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
            self.decimated,
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
    o.validate()?;
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

    let sent = stats.sent();
    let report = BenchReport {
        input: o.input.clone(),
        input_fps: fps,
        seconds: run.seconds,
        frames_in: run.frames_in,
        frames_out: run.frames_out,
        frames_sent: sent.count,
        decimated: stats.decimated.load(Relaxed),
        latency_ms: Spread::of(&sent.latency),
        stage_pose_ms: Spread::of(&sent.pose),
        stage_denoise_ms: Spread::of(&sent.denoise),
        stage_sink_ms: Spread::of(&sent.sink),
        pose_inference_ms: Spread::of(&stats.pose_stage_ms()),
        denoise_update_ms: Spread::of(&stats.update_ms()),
        updates: stats.updates.load(Relaxed),
        dropped: Drops {
            source: stats.source_drops.load(Relaxed),
            pose_queue: stats.pose_drops.load(Relaxed),
            window: stats.window_skips.load(Relaxed),
            sinks: stats.sink_drops.load(Relaxed),
        },
        output_jitter_ms: sent.intervals.std_dev(),
        cpu_seconds: cpu,
        cpu_cores: cpu / run.seconds.max(1e-9),
        rss_max_mib: rss_max,
        histogram: o.histogram.clone(),
    };
    let caption = format!(
        "mocapd bench: {} frames, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, {} dropped",
        sent.count, report.latency_ms.p50, report.latency_ms.p95, report.latency_ms.p99, run.drops
    );
    if let Some(path) = &o.histogram {
        histogram::write(path, &sent.latency, &caption)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_shows_decimated_frames_and_spreads_from_the_bounded_histograms() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let mut h = Histogram::new();
        v.iter().for_each(|&x| h.add(x));
        let s = Spread::of(&h);
        let near = |a: f64, q: f64| (a - crate::pipeline::stats::quantile(&v, q)).abs() <= 0.1;
        assert!(near(s.p50, 0.5) && near(s.p95, 0.95) && near(s.p99, 0.99) && s.max == 100.0, "{s:?}");
        let r = BenchReport {
            input: "in.mp4".into(),
            input_fps: 60.0,
            seconds: 2.0,
            frames_in: 60,
            frames_out: 60,
            frames_sent: 60,
            decimated: 60,
            latency_ms: s.clone(),
            stage_pose_ms: s.clone(),
            stage_denoise_ms: s.clone(),
            stage_sink_ms: s.clone(),
            pose_inference_ms: s.clone(),
            denoise_update_ms: Spread::of(&Histogram::new()),
            updates: 50,
            dropped: Drops { source: 0, pose_queue: 0, window: 0, sinks: 0 },
            output_jitter_ms: 1.0,
            cpu_seconds: 1.0,
            cpu_cores: 0.5,
            rss_max_mib: 100.0,
            histogram: None,
        };
        assert!(r.text().contains("60 sent, 50 updates, 60 decimated (to 30 fps)"), "{}", r.text());
        let json: serde_json::Value = serde_json::to_value(&r).unwrap();
        assert_eq!(json["decimated"].as_u64(), Some(60));
        assert!(BenchOptions { input: "x".into(), duration: Some(f64::NAN), histogram: None }.validate().is_err());
        assert!(BenchOptions { input: "x".into(), duration: Some(3.0), histogram: None }.validate().is_ok());
    }
}
