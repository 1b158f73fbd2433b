//! What the running pipeline measured: counters every stage bumps (frames in/out, drops),
//! per-frame latency samples (capture → datagram sent), per-stage times, and the process's CPU
//! time (`getrusage`) and resident memory (`/proc/self/statm`). One shared [`Stats`] per run.
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One motion frame that reached the primary sink.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Sample {
    pub frame: u64,
    /// Capture → datagram sent (or written), milliseconds.
    pub latency_ms: f64,
    /// Capture → pose done.
    pub pose_ms: f64,
    /// Pose done → emitted by the denoise loop (window wait + lookahead + denoising).
    pub denoise_ms: f64,
    /// Emitted → sent (channel + sink).
    pub sink_ms: f64,
    /// Seconds since the run started, when it was sent.
    pub sent_s: f64,
}

/// Counters and samples shared by every thread of one run.
pub struct Stats {
    pub started: Instant,
    /// Poses the denoise loop received.
    pub frames_in: AtomicU64,
    /// Motion frames the denoise loop emitted.
    pub frames_out: AtomicU64,
    /// Poses dropped between the pose stage and the denoise loop (queue full).
    pub pose_drops: AtomicU64,
    /// Frames that left the 2D window before they could be generated (denoiser too slow).
    pub window_skips: AtomicU64,
    /// Frames dropped in front of a sink (its queue full), all sinks.
    pub sink_drops: AtomicU64,
    /// Sink calls that failed (logged, never fatal).
    pub sink_errors: AtomicU64,
    /// Source frames dropped by the source's own queue.
    pub source_drops: AtomicU64,
    /// Frames of a source faster than the model's 30 fps skipped before pose estimation
    /// (`motion::Decimator`); not drops.
    pub decimated: AtomicU64,
    /// People in the newest pose frame.
    pub people: AtomicU64,
    /// Denoise updates run.
    pub updates: AtomicU64,
    samples: Mutex<Vec<Sample>>,
    update_ms: Mutex<Vec<f64>>,
    pose_stage_ms: Mutex<Vec<f64>>,
}

impl Default for Stats {
    fn default() -> Self {
        Self::new()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Stats {
    pub fn new() -> Self {
        let z = || AtomicU64::new(0);
        Self {
            started: Instant::now(),
            frames_in: z(),
            frames_out: z(),
            pose_drops: z(),
            window_skips: z(),
            sink_drops: z(),
            sink_errors: z(),
            source_drops: z(),
            decimated: z(),
            people: z(),
            updates: z(),
            samples: Mutex::new(Vec::new()),
            update_ms: Mutex::new(Vec::new()),
            pose_stage_ms: Mutex::new(Vec::new()),
        }
    }

    pub fn record(&self, s: Sample) {
        lock(&self.samples).push(s);
    }
    pub fn record_update(&self, d: Duration) {
        self.updates.fetch_add(1, Relaxed);
        lock(&self.update_ms).push(d.as_secs_f64() * 1e3);
    }
    pub fn record_pose(&self, d: Duration) {
        lock(&self.pose_stage_ms).push(d.as_secs_f64() * 1e3);
    }
    pub fn samples(&self) -> Vec<Sample> {
        lock(&self.samples).clone()
    }
    pub fn samples_len(&self) -> usize {
        lock(&self.samples).len()
    }
    pub fn samples_since(&self, from: usize) -> Vec<Sample> {
        lock(&self.samples).get(from..).map(<[Sample]>::to_vec).unwrap_or_default()
    }
    pub fn update_ms(&self) -> Vec<f64> {
        lock(&self.update_ms).clone()
    }
    pub fn pose_stage_ms(&self) -> Vec<f64> {
        lock(&self.pose_stage_ms).clone()
    }
    /// All drops: source queue, pose queue, window overruns, sink queues.
    pub fn drops(&self) -> u64 {
        [&self.source_drops, &self.pose_drops, &self.window_skips, &self.sink_drops].iter().map(|c| c.load(Relaxed)).sum()
    }
}

/// The `q` quantile (0..=1) of `v` by nearest rank; NaN when empty.
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((q * (s.len() - 1) as f64).round() as usize).min(s.len() - 1)]
}

/// Prints the once-a-second status line from what changed since the last call.
pub struct StatusLine {
    last: Instant,
    frames_in: u64,
    frames_out: u64,
    samples: usize,
}

impl StatusLine {
    pub fn new(stats: &Stats) -> Self {
        Self {
            last: Instant::now(),
            frames_in: stats.frames_in.load(Relaxed),
            frames_out: stats.frames_out.load(Relaxed),
            samples: stats.samples_len(),
        }
    }

    /// The line for the interval since the last call.
    pub fn tick(&mut self, stats: &Stats) -> String {
        let dt = self.last.elapsed().as_secs_f64().max(1e-6);
        let (fin, fout) = (stats.frames_in.load(Relaxed), stats.frames_out.load(Relaxed));
        let new = stats.samples_since(self.samples);
        let lat: Vec<f64> = new.iter().map(|s| s.latency_ms).collect();
        let ms = |q: f64| if lat.is_empty() { "  -  ".to_string() } else { format!("{:5.1}", quantile(&lat, q)) };
        let line = format!(
            "in {:5.1} fps | out {:5.1} fps | latency p50 {} ms p95 {} ms | people {} | drops {}",
            (fin - self.frames_in) as f64 / dt,
            (fout - self.frames_out) as f64 / dt,
            ms(0.5),
            ms(0.95),
            stats.people.load(Relaxed),
            stats.drops(),
        );
        *self = Self { last: Instant::now(), frames_in: fin, frames_out: fout, samples: self.samples + new.len() };
        line
    }
}

/// User + system CPU seconds of this process so far.
pub fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct we hand it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return f64::NAN;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Resident set size in MiB from `/proc/self/statm` (NaN where unavailable).
pub fn rss_mib() -> f64 {
    let page = 4096.0;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()))
        .map_or(f64::NAN, |pages| pages * page / (1024.0 * 1024.0))
}
