//! `mocapd bench`: replays a video or keypoint recording at its native rate through the whole
//! pipeline (VMC to a loopback receiver of its own) and reports glass-to-wire latency per frame
//! (capture → datagram sent), per-stage times, drops, output jitter, CPU time and memory, the
//! DDIM steps the updates ran at (fewer under load), plus a latency histogram image on request.
//! `--loop` and `--duration` make a long run of a short file; `--warmup` leaves the start out.
use std::collections::{BTreeMap, HashMap};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::Error;
use crate::config::Settings;
use crate::pipeline::stats::{cpu_seconds, rss_mib, thread_cpu, Histogram, Stats};
use crate::pipeline::{histogram, Pipeline};
use crate::sink::vmc::VmcConfig;
use crate::source::Pacing;

pub struct BenchOptions {
    pub input: String,
    /// Stop after this many seconds (`None`: the whole input).
    pub duration: Option<f64>,
    /// Play the input again from the start when it ends (needs `duration`).
    pub looped: bool,
    /// Seconds at the start left out of every measure (drops included).
    pub warmup: f64,
    pub histogram: Option<PathBuf>,
}

impl BenchOptions {
    /// Checks the options' ranges (the errors name the CLI flags): a duration is finite and
    /// positive. [`run`] calls it before starting anything.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(d) = self.duration.filter(|d| !(d.is_finite() && *d > 0.0)) {
            return Err(Error::Usage(format!("--duration must be a finite number of seconds > 0, got {d}")));
        }
        if !(self.warmup.is_finite() && self.warmup >= 0.0) {
            return Err(Error::Usage(format!("--warmup must be a finite number of seconds ≥ 0, got {}", self.warmup)));
        }
        if self.duration.is_some_and(|d| self.warmup >= d) {
            return Err(Error::Usage(format!(
                "--warmup {} leaves nothing of --duration {} to measure",
                self.warmup,
                self.duration.unwrap_or(0.0)
            )));
        }
        if self.looped && self.duration.is_none() {
            return Err(Error::Usage("--loop needs --duration (a looping input never ends)".into()));
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
    /// Seconds at the start left out of the measures below (`--warmup`).
    pub warmup_s: f64,
    pub frames_in: u64,
    pub frames_out: u64,
    pub frames_sent: u64,
    /// Frames of a source faster than the model's 30 fps skipped before pose estimation (not
    /// drops).
    pub decimated: u64,
    /// Frames the pose stage skipped because newer ones waited, sent with interpolated 2D (not
    /// drops).
    pub interpolated: u64,
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
    /// Updates that sent frames, by DDIM steps (the configured steps unless the machine was too
    /// busy for `pipeline.latency_budget_ms`).
    pub updates_by_steps: BTreeMap<usize, u64>,
    /// Times the loop stepped down to fewer steps.
    pub degradations: u64,
    pub dropped: Drops,
    /// Dropped frames as a share of the frames measured (sent + dropped), percent.
    pub drop_percent: f64,
    /// Standard deviation of the interval between sent frames (the source's frame interval is
    /// the ideal, constant part).
    pub output_jitter_ms: f64,
    pub cpu_seconds: f64,
    /// CPU time / wall time (1.0 = one core busy).
    pub cpu_cores: f64,
    /// CPU seconds after the warm-up by thread name (source, pose, denoise, …; a decoder's
    /// worker threads count under their source), largest first; Linux only.
    pub cpu_by_thread: Vec<(String, f64)>,
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

/// The counters the report takes as differences from the end of the warm-up.
struct Counters {
    drops: Drops,
    updates: u64,
    degradations: u64,
    decimated: u64,
    interpolated: u64,
    /// CPU seconds of the process.
    cpu: f64,
}

impl Counters {
    fn of(st: &Stats, cpu: f64) -> Self {
        Self {
            drops: Drops::of(st),
            updates: st.updates.load(Relaxed),
            degradations: st.degradations.load(Relaxed),
            decimated: st.decimated.load(Relaxed),
            interpolated: st.interpolated.load(Relaxed),
            cpu,
        }
    }
}

/// Every thread's CPU seconds, sampled while the pipeline runs (a thread's last sample stands
/// once it has ended, so at most one sampling interval of its work goes uncounted).
#[derive(Default)]
struct ThreadClocks {
    /// tid → CPU seconds at the end of the warm-up.
    start: HashMap<u64, f64>,
    /// tid → (name, CPU seconds at the last sample).
    last: BTreeMap<u64, (String, f64)>,
}

impl ThreadClocks {
    fn sample(&mut self) {
        for t in thread_cpu() {
            self.last.insert(t.tid, (t.name, t.seconds));
        }
    }

    /// Measures from now on.
    fn start(&mut self) {
        self.sample();
        self.start = self.last.iter().map(|(&tid, (_, s))| (tid, *s)).collect();
    }

    /// CPU seconds since [`Self::start`] by thread name, largest first; names under 0.05 s left out.
    fn by_name(&self) -> Vec<(String, f64)> {
        let mut sums: BTreeMap<&str, f64> = BTreeMap::new();
        for (tid, (name, s)) in &self.last {
            *sums.entry(name).or_default() += s - self.start.get(tid).copied().unwrap_or(0.0);
        }
        let mut out: Vec<(String, f64)> = sums.into_iter().filter(|(_, s)| *s >= 0.05).map(|(n, s)| (n.to_string(), s)).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }
}

impl Drops {
    fn of(st: &Stats) -> Self {
        let n = |c: &std::sync::atomic::AtomicU64| c.load(Relaxed);
        Self { source: n(&st.source_drops), pose_queue: n(&st.pose_drops), window: n(&st.window_skips), sinks: n(&st.sink_drops) }
    }
    fn minus(&self, o: &Self) -> Self {
        let d = |a: u64, b: u64| a.saturating_sub(b);
        Self {
            source: d(self.source, o.source),
            pose_queue: d(self.pose_queue, o.pose_queue),
            window: d(self.window, o.window),
            sinks: d(self.sinks, o.sinks),
        }
    }
    pub fn total(&self) -> u64 {
        self.source + self.pose_queue + self.window + self.sinks
    }
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
            "bench {} ({:.1} fps, {:.1} s{}): {} poses in, {} frames out, {} sent, {} updates, {} decimated (to 30 fps), {} with 2D interpolated\n\
             latency ms (capture→sent)  {}\n\
             \x20 capture→pose done       {}\n\
             \x20 pose→emitted (denoise)  {}\n\
             \x20 emitted→sent            {}\n\
             \x20 pose inference          {}\n\
             \x20 denoise update          {}\n\
             updates by DDIM steps {} ({} step-downs under load)\n\
             dropped: source {}, pose queue {}, window {}, sinks {} ({:.2} % of the frames)\n\
             output jitter {:.1} ms; CPU {:.1} s ({:.2} cores{}); RSS max {:.0} MiB\n{}",
            self.input,
            self.input_fps,
            self.seconds,
            if self.warmup_s > 0.0 { format!(", measured after a {:.1} s warm-up", self.warmup_s) } else { String::new() },
            self.frames_in,
            self.frames_out,
            self.frames_sent,
            self.updates,
            self.decimated,
            self.interpolated,
            s(&self.latency_ms),
            s(&self.stage_pose_ms),
            s(&self.stage_denoise_ms),
            s(&self.stage_sink_ms),
            s(&self.pose_inference_ms),
            s(&self.denoise_update_ms),
            self.updates_by_steps.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", "),
            self.degradations,
            self.dropped.source,
            self.dropped.pose_queue,
            self.dropped.window,
            self.dropped.sinks,
            self.drop_percent,
            self.output_jitter_ms,
            self.cpu_seconds,
            self.cpu_cores,
            if self.cpu_by_thread.is_empty() {
                String::new()
            } else {
                format!("; by thread {}", self.cpu_by_thread.iter().map(|(n, v)| format!("{n} {v:.1} s")).collect::<Vec<_>>().join(", "))
            },
            self.rss_max_mib,
            self.histogram.as_ref().map(|h| format!("histogram: {}\n", h.display())).unwrap_or_default()
        )
    }
}

pub fn run(o: &BenchOptions, settings: &Settings) -> Result<BenchReport, Error> {
    o.validate()?;
    let mut settings = settings.stages();
    settings.source.pacing = Pacing::Native;
    settings.source.loop_file = o.looped;
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
    // Counters at the end of the warm-up (at the start without one).
    let mut at_warmup = (o.warmup == 0.0).then(|| Counters::of(&p.stats, cpu0));
    let mut clocks = ThreadClocks::default();
    let mut polls = 0u64;
    while !p.is_finished() {
        std::thread::sleep(Duration::from_millis(20));
        rss_max = rss_max.max(rss_mib());
        polls += 1;
        if polls.is_multiple_of(10) {
            clocks.sample();
        }
        if at_warmup.is_none() && t0.elapsed().as_secs_f64() >= o.warmup {
            p.stats.restart_measures();
            at_warmup = Some(Counters::of(&p.stats, cpu_seconds()));
            clocks.start();
        }
        if o.duration.is_some_and(|d| t0.elapsed().as_secs_f64() >= d) {
            clocks.sample();
            p.stop();
        }
    }
    let (stats, fps) = (Arc::clone(&p.stats), p.fps);
    let run = p.wait().check()?;
    let Some(c0) = at_warmup else {
        return Err(Error::Usage(format!("the input ended within the --warmup of {} s: nothing was measured", o.warmup)));
    };
    let c = Counters::of(&stats, cpu_seconds());
    let cpu = c.cpu - c0.cpu;
    let measured_s = (run.seconds - o.warmup).max(1e-9);
    done.store(true, Relaxed);
    let _ = drain.join();

    let sent = stats.sent();
    let dropped = c.drops.minus(&c0.drops);
    let report = BenchReport {
        input: o.input.clone(),
        input_fps: fps,
        seconds: run.seconds,
        warmup_s: o.warmup,
        frames_in: run.frames_in,
        frames_out: run.frames_out,
        frames_sent: sent.count,
        decimated: c.decimated - c0.decimated,
        interpolated: c.interpolated - c0.interpolated,
        latency_ms: Spread::of(&sent.latency),
        stage_pose_ms: Spread::of(&sent.pose),
        stage_denoise_ms: Spread::of(&sent.denoise),
        stage_sink_ms: Spread::of(&sent.sink),
        pose_inference_ms: Spread::of(&stats.pose_stage_ms()),
        denoise_update_ms: Spread::of(&stats.update_ms()),
        updates: c.updates - c0.updates,
        updates_by_steps: stats.updates_by_steps(),
        degradations: c.degradations - c0.degradations,
        drop_percent: 100.0 * dropped.total() as f64 / (sent.count + dropped.total()).max(1) as f64,
        dropped,
        output_jitter_ms: sent.intervals.std_dev(),
        cpu_seconds: cpu,
        cpu_cores: cpu / measured_s,
        cpu_by_thread: clocks.by_name(),
        rss_max_mib: rss_max,
        histogram: o.histogram.clone(),
    };
    let caption = format!(
        "mocapd bench: {} frames, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, {} dropped",
        sent.count,
        report.latency_ms.p50,
        report.latency_ms.p95,
        report.latency_ms.p99,
        report.dropped.total()
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
            warmup_s: 0.0,
            frames_in: 60,
            frames_out: 60,
            frames_sent: 60,
            decimated: 60,
            interpolated: 3,
            latency_ms: s.clone(),
            stage_pose_ms: s.clone(),
            stage_denoise_ms: s.clone(),
            stage_sink_ms: s.clone(),
            pose_inference_ms: s.clone(),
            denoise_update_ms: Spread::of(&Histogram::new()),
            updates: 50,
            updates_by_steps: BTreeMap::from([(4, 30), (2, 20)]),
            degradations: 1,
            dropped: Drops { source: 0, pose_queue: 0, window: 0, sinks: 0 },
            drop_percent: 0.0,
            output_jitter_ms: 1.0,
            cpu_seconds: 1.0,
            cpu_cores: 0.5,
            cpu_by_thread: vec![("pose".into(), 0.6), ("denoise".into(), 0.3)],
            rss_max_mib: 100.0,
            histogram: None,
        };
        assert!(r.text().contains("60 sent, 50 updates, 60 decimated (to 30 fps), 3 with 2D interpolated"), "{}", r.text());
        assert!(r.text().contains("updates by DDIM steps 2: 20, 4: 30 (1 step-downs under load)"), "{}", r.text());
        assert!(r.text().contains("(0.50 cores; by thread pose 0.6 s, denoise 0.3 s)"), "{}", r.text());
        let json: serde_json::Value = serde_json::to_value(&r).unwrap();
        assert_eq!(json["decimated"].as_u64(), Some(60));
        let o = |duration, looped, warmup| BenchOptions { input: "x".into(), duration, looped, warmup, histogram: None };
        assert!(o(Some(f64::NAN), false, 0.0).validate().is_err());
        assert!(o(Some(3.0), false, 0.0).validate().is_ok());
        assert!(o(Some(3.0), true, 1.0).validate().is_ok());
        assert!(o(None, true, 0.0).validate().is_err(), "a loop without a duration never ends");
        assert!(o(Some(3.0), false, 3.0).validate().is_err() && o(None, false, -1.0).validate().is_err());
    }
}
