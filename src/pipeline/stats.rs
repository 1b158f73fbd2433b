//! What the running pipeline measured: counters every stage bumps (frames in/out, drops,
//! decimated frames), per-frame latency (capture → datagram sent) and per-stage times, and the
//! process's CPU time (`getrusage`) and resident memory (`/proc/self/statm`, in the OS's pages).
//! One shared [`Stats`] per run. Memory stays flat however long the run: each measure goes into
//! a fixed [`Histogram`] (0.1 ms bins up to 10 s, exact count and maximum), and only the last
//! [`RECENT`] samples are kept whole (for the status line).
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::governor::Rung;

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

/// Width of a [`Histogram`] bin, milliseconds.
pub const BIN_MS: f64 = 0.1;
/// Bins of a [`Histogram`]: 0.1 ms wide up to 10 s; longer values are counted above the range.
pub const BINS: usize = 100_000;
/// Samples kept whole (the newest), for the status line's per-interval quantiles.
pub const RECENT: usize = 4096;

/// A fixed-size histogram of milliseconds: [`BINS`] bins of [`BIN_MS`] (400 KB, touched only
/// where values fall), a count above 10 s, and the exact count, minimum and maximum. Its
/// quantiles are within one bin of the exact ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    counts: Vec<u32>,
    over: u64,
    n: u64,
    min: f64,
    max: f64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    pub fn new() -> Self {
        Self { counts: vec![0; BINS], over: 0, n: 0, min: f64::INFINITY, max: f64::NEG_INFINITY }
    }

    /// Counts one value (a negative one as 0; NaN and infinity are ignored).
    pub fn add(&mut self, ms: f64) {
        if !ms.is_finite() {
            return;
        }
        let ms = ms.max(0.0);
        match self.counts.get_mut((ms / BIN_MS) as usize) {
            Some(c) => *c = c.saturating_add(1),
            None => self.over += 1,
        }
        self.n += 1;
        self.min = self.min.min(ms);
        self.max = self.max.max(ms);
    }

    /// Values counted.
    pub fn len(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The largest value counted (exact); NaN when empty.
    pub fn max(&self) -> f64 {
        if self.is_empty() {
            f64::NAN
        } else {
            self.max
        }
    }

    /// The `q` quantile (0..=1) by nearest rank, as [`quantile`] on the values would give it
    /// within one bin: the middle of the bin holding that rank (within the exact minimum and
    /// maximum; the maximum above 10 s). NaN when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.is_empty() {
            return f64::NAN;
        }
        let rank = (q.clamp(0.0, 1.0) * (self.n - 1) as f64).round() as u64;
        let mut seen = 0u64;
        for (b, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen > rank {
                return ((b as f64 + 0.5) * BIN_MS).clamp(self.min, self.max);
            }
        }
        self.max
    }

    /// The counts regrouped into `bins` bins of `bin_ms` (the last also holds everything
    /// beyond), for drawing.
    pub fn coarse(&self, bin_ms: f64, bins: usize) -> Vec<u64> {
        let mut out = vec![0u64; bins.max(1)];
        let last = out.len() - 1;
        for (b, &c) in self.counts.iter().enumerate().filter(|(_, &c)| c > 0) {
            out[(((b as f64 + 0.5) * BIN_MS / bin_ms) as usize).min(last)] += u64::from(c);
        }
        out[last] += self.over;
        out
    }
}

/// Mean and spread of a stream of values, updated one value at a time (Welford).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Running {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Running {
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Population standard deviation; 0 with fewer than two values.
    pub fn std_dev(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / self.n as f64).sqrt()
        }
    }
}

/// Everything measured about the frames that reached the primary sink.
#[derive(Debug, Clone, Default)]
pub struct SentFrames {
    /// Frames sent.
    pub count: u64,
    /// Capture → sent.
    pub latency: Histogram,
    /// Capture → pose done.
    pub pose: Histogram,
    /// Pose done → emitted.
    pub denoise: Histogram,
    /// Emitted → sent.
    pub sink: Histogram,
    /// Intervals between consecutive sends, milliseconds (their spread is the output jitter).
    pub intervals: Running,
    last_sent_s: Option<f64>,
    /// The newest samples, at most [`RECENT`], the last being sample number `count - 1`.
    recent: VecDeque<Sample>,
}

impl SentFrames {
    fn add(&mut self, s: Sample) {
        self.count += 1;
        self.latency.add(s.latency_ms);
        self.pose.add(s.pose_ms);
        self.denoise.add(s.denoise_ms);
        self.sink.add(s.sink_ms);
        if let Some(prev) = self.last_sent_s.replace(s.sent_s) {
            self.intervals.add((s.sent_s - prev) * 1e3);
        }
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(s);
    }
}

/// Counters and measures shared by every thread of one run; bounded in memory.
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
    /// Frames the pose stage skipped because newer ones waited (a busy machine), sent on with
    /// their 2D interpolated between the poses around them; not drops.
    pub interpolated: AtomicU64,
    /// People in the newest pose frame.
    pub people: AtomicU64,
    /// Denoise updates run.
    pub updates: AtomicU64,
    /// DDIM steps of the live loop's updates now ([`super::governor::Governor`]).
    pub steps: AtomicU64,
    /// Whether those are fewer than configured (the machine is too busy for the budget).
    pub degraded: AtomicBool,
    /// Times the live loop stepped down.
    pub degradations: AtomicU64,
    /// Updates that sent frames, by their DDIM steps (one entry per rung used).
    updates_by_steps: Mutex<BTreeMap<usize, u64>>,
    sent: Mutex<SentFrames>,
    update_ms: Mutex<Histogram>,
    pose_stage_ms: Mutex<Histogram>,
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
            interpolated: z(),
            people: z(),
            updates: z(),
            steps: z(),
            degraded: AtomicBool::new(false),
            degradations: z(),
            updates_by_steps: Mutex::new(BTreeMap::new()),
            sent: Mutex::new(SentFrames::default()),
            update_ms: Mutex::new(Histogram::new()),
            pose_stage_ms: Mutex::new(Histogram::new()),
        }
    }

    pub fn record(&self, s: Sample) {
        lock(&self.sent).add(s);
    }
    pub fn record_update(&self, d: Duration) {
        self.updates.fetch_add(1, Relaxed);
        lock(&self.update_ms).add(d.as_secs_f64() * 1e3);
    }
    pub fn record_pose(&self, d: Duration) {
        lock(&self.pose_stage_ms).add(d.as_secs_f64() * 1e3);
    }
    /// The live loop now samples with `r` (`degraded`: below the configured quality).
    pub fn set_rung(&self, r: Rung, degraded: bool) {
        self.steps.store(r.steps as u64, Relaxed);
        self.degraded.store(degraded, Relaxed);
    }
    /// Counts an update that sent frames, sampled with `steps`.
    pub fn count_update_at(&self, steps: usize) {
        *lock(&self.updates_by_steps).entry(steps).or_default() += 1;
    }
    /// Updates that sent frames, by DDIM steps.
    pub fn updates_by_steps(&self) -> BTreeMap<usize, u64> {
        lock(&self.updates_by_steps).clone()
    }
    /// Starts the latency and stage measures afresh (`mocapd bench --warmup`); counters and
    /// drops keep counting.
    pub fn restart_measures(&self) {
        *lock(&self.sent) = SentFrames::default();
        *lock(&self.update_ms) = Histogram::new();
        *lock(&self.pose_stage_ms) = Histogram::new();
        lock(&self.updates_by_steps).clear();
    }
    /// What was measured about the frames sent (a copy).
    pub fn sent(&self) -> SentFrames {
        lock(&self.sent).clone()
    }
    /// Samples recorded so far (all of them, not only those kept whole).
    pub fn samples_len(&self) -> usize {
        lock(&self.sent).count as usize
    }
    /// The samples numbered `from` on that are still kept (the newest [`RECENT`]).
    pub fn samples_since(&self, from: usize) -> Vec<Sample> {
        let sent = lock(&self.sent);
        let first = sent.count as usize - sent.recent.len();
        sent.recent.iter().skip(from.saturating_sub(first)).copied().collect()
    }
    /// Durations of the denoise updates, ms.
    pub fn update_ms(&self) -> Histogram {
        lock(&self.update_ms).clone()
    }
    /// Durations of the pose estimations, ms.
    pub fn pose_stage_ms(&self) -> Histogram {
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
            "in {:5.1} fps | out {:5.1} fps | latency p50 {} ms p95 {} ms | people {} | drops {} | decimated {} | 2D interpolated {} | steps {}{}",
            (fin - self.frames_in) as f64 / dt,
            (fout - self.frames_out) as f64 / dt,
            ms(0.5),
            ms(0.95),
            stats.people.load(Relaxed),
            stats.drops(),
            stats.decimated.load(Relaxed),
            stats.interpolated.load(Relaxed),
            stats.steps.load(Relaxed),
            if stats.degraded.load(Relaxed) { " (degraded: busy machine)" } else { "" },
        );
        *self = Self { last: Instant::now(), frames_in: fin, frames_out: fout, samples: stats.samples_len() };
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

/// One live thread's CPU seconds (user + system) so far.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadCpu {
    pub tid: u64,
    /// The thread's name; threads a library starts inherit the name of the thread that started
    /// them, so a decoder's worker threads carry their source's name.
    pub name: String,
    pub seconds: f64,
}

/// This process's live threads from `/proc/self/task` (Linux; elsewhere empty). A thread that
/// has ended is gone from the list: sample while the threads run.
pub fn thread_cpu() -> Vec<ThreadCpu> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return vec![] };
    // SAFETY: sysconf only reads a system setting.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let ticks = if ticks > 0 { ticks as f64 } else { 100.0 };
    tasks
        .flatten()
        .filter_map(|task| {
            let tid = task.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
            let (name, seconds) = parse_task_stat(&stat, ticks)?;
            Some(ThreadCpu { tid, name, seconds })
        })
        .collect()
}

/// `(comm, utime + stime in seconds)` of one `/proc/<pid>/task/<tid>/stat` line; the name is
/// in parentheses and may itself hold spaces or parentheses, so the fields after it are counted
/// from its last `)`.
fn parse_task_stat(stat: &str, ticks: f64) -> Option<(String, f64)> {
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let name = stat.get(open + 1..close)?.to_string();
    // After ") ": state (field 3) … utime (14), stime (15).
    let mut rest = stat.get(close + 1..)?.split_whitespace().skip(11);
    let utime: f64 = rest.next()?.parse().ok()?;
    let stime: f64 = rest.next()?.parse().ok()?;
    Some((name, (utime + stime) / ticks))
}

/// Keeps the resident memory of a long run steady and video frames cheap (glibc only; elsewhere
/// nothing). Every frame is a new multi-MiB buffer: mapped on its own, each one costs a page
/// fault per 4 KiB on first write (a third of the source thread's CPU on the 1768×994 demo);
/// from glibc's heap under its adaptive thresholds, the heap grows and shrinks by whole frames
/// (a soak swung 200-249 MiB). So blocks up to 64 MiB come from the heap and the heap keeps up
/// to 256 MiB of freed memory for the next frames instead of returning it: resident memory
/// rises to the frames in flight and stays there. Call once, at start-up, before the threads
/// start.
pub fn steady_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}

/// The OS's memory page size in bytes (4096 where it cannot be asked).
pub fn page_size() -> f64 {
    // SAFETY: sysconf only reads a system setting.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as f64
    } else {
        4096.0
    }
}

/// Resident set size in MiB from `/proc/self/statm`, whose counts are pages (NaN where
/// unavailable).
pub fn rss_mib() -> f64 {
    let page = page_size();
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()))
        .map_or(f64::NAN, |pages| pages * page / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn task_stat_lines_give_name_and_cpu_even_with_odd_names() {
        let line = "4242 (pose) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0 100 0 0";
        assert_eq!(parse_task_stat(line, 100.0), Some(("pose".into(), 3.0)));
        let odd = "7 (a b) c)) R 1 2 3 4 5 6 7 8 9 10 5 5 0 0";
        assert_eq!(parse_task_stat(odd, 100.0), Some(("a b) c)".into(), 0.1)));
        assert_eq!(parse_task_stat("7 (cut", 100.0), None);
        // This test's own thread is among the live ones, with its (truncated) name.
        let mine = std::thread::current().name().map(|n| n.chars().take(15).collect::<String>());
        let threads = thread_cpu();
        if cfg!(target_os = "linux") {
            let mine = mine.expect("test threads are named");
            assert!(threads.iter().any(|t| t.name == mine), "{mine} not in {threads:?}");
            assert!(threads.iter().all(|t| t.tid > 0 && t.seconds.is_finite() && t.seconds >= 0.0));
        }
    }

    #[test]
    fn histogram_quantiles_match_exact_ones_within_one_bin() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for (n, spread) in [(1, 30.0), (2, 5.0), (17, 200.0), (5000, 80.0), (20_000, 3.0)] {
            // Latency-like: a body around 20 ms, a long tail, some exact bin edges and zeros.
            let mut v: Vec<f64> = (0..n)
                .map(|i| match i % 50 {
                    0 => 0.0,
                    1 => (i % 7) as f64 * BIN_MS,
                    2 => 20.0 + spread * 40.0 * rng.random::<f64>(),
                    _ => 20.0 + spread * rng.random::<f64>().powi(3),
                })
                .collect();
            let mut h = Histogram::new();
            v.iter().for_each(|&x| h.add(x));
            assert_eq!(h.len(), n as u64);
            for q in [0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
                let (exact, approx) = (quantile(&v, q), h.quantile(q));
                assert!((exact - approx).abs() <= BIN_MS, "n {n} q {q}: exact {exact} vs {approx}");
            }
            v.sort_by(f64::total_cmp);
            assert_eq!(h.max(), v[v.len() - 1], "the maximum is exact");
        }
        // Beyond 10 s: counted, and the top quantile is the exact maximum.
        let mut h = Histogram::new();
        for x in [5.0, 6.0, 12_345.6] {
            h.add(x);
        }
        h.add(f64::NAN);
        assert_eq!((h.len(), h.quantile(1.0), h.max()), (3, 12_345.6, 12_345.6));
        assert!((h.quantile(0.5) - 6.0).abs() <= BIN_MS);
        assert!(Histogram::new().quantile(0.5).is_nan() && Histogram::new().max().is_nan());
        // Regrouped for drawing: every value in some coarse bin, the overflow in the last.
        let c = h.coarse(5.0, 4);
        assert_eq!(c, vec![0, 2, 0, 1]);
    }

    #[test]
    fn memory_stays_flat_and_the_status_line_sees_the_newest_samples() {
        let stats = Stats::new();
        let sample = |i: usize| Sample {
            frame: i as u64,
            latency_ms: 20.0 + (i % 10) as f64,
            pose_ms: 5.0,
            denoise_ms: 10.0,
            sink_ms: 0.1,
            sent_s: i as f64 / 30.0 + if i.is_multiple_of(2) { 0.002 } else { 0.0 },
        };
        let n = 3 * RECENT + 5;
        for i in 0..n {
            stats.record(sample(i));
        }
        let sent = stats.sent();
        assert_eq!((sent.count, sent.latency.len(), sent.recent.len()), (n as u64, n as u64, RECENT));
        assert_eq!(sent.latency.counts.len(), BINS, "the histogram never grows");
        assert!((sent.latency.quantile(0.5) - 24.5).abs() <= 0.6, "{}", sent.latency.quantile(0.5));
        // Intervals alternate 1/30 s ± 2 ms: their spread is 2 ms.
        assert!((sent.intervals.std_dev() - 2.0).abs() < 1e-6, "{}", sent.intervals.std_dev());
        assert_eq!(stats.samples_len(), n);
        let since = stats.samples_since(n - 3);
        assert_eq!(since.iter().map(|s| s.frame).collect::<Vec<_>>(), vec![n as u64 - 3, n as u64 - 2, n as u64 - 1]);
        assert_eq!(stats.samples_since(0).len(), RECENT, "older samples are gone");
        assert!(stats.samples_since(n).is_empty());
        let mut line = StatusLine::new(&Stats::new());
        stats.decimated.fetch_add(12, Relaxed);
        assert!(line.tick(&stats).contains("| decimated 12 |"), "{}", line.tick(&stats));
    }

    #[test]
    fn rss_is_counted_in_the_os_pages() {
        assert!(page_size() >= 4096.0 && page_size().log2().fract() == 0.0, "{}", page_size());
        let rss = rss_mib();
        assert!(rss.is_finite() && rss > 1.0, "{rss}");
    }
}
