//! Crash-safe BVH recorder on mocapd's one SMPL-24 BVH skeleton ([`crate::motion::bvh`], the
//! hierarchy `mocapd lift --out x.bvh` writes too). The header carries a fixed-width `Frames:`
//! count that is patched on every flush (at most every 0.5 s, and at finish), so a file cut by
//! `kill -9` still imports up to its last flush: readers stop at the declared count. Each flush
//! is one write of whole lines followed by the count, so a kill between flushes leaves only
//! complete lines (what Blender's importer, which ignores the count, needs); only a kill during
//! that sub-millisecond write can leave a partial last line, which count-honouring readers skip.
//! The file is created with `create_new` (an existing file is never truncated); a recording that
//! got no frame removes its file at finish.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{MotionFrame, Sink, SinkError, SinkStats};
use crate::bvh::write as bvh_write;
use crate::motion::bvh::{frame_values, skeleton, Units};

/// Width of the patched `Frames:` count.
const COUNT_WIDTH: usize = 10;
/// Longest time frames stay in memory before a flush (while frames arrive; the `recorders`
/// thread also flushes when they stop).
pub const FLUSH_EVERY: Duration = Duration::from_millis(500);

/// The BVH recorder sink.
#[derive(Debug)]
pub struct BvhRecorder {
    path: PathBuf,
    file: Option<File>,
    count_at: u64,
    order: Vec<usize>,
    units: Units,
    pending: String,
    pending_frames: u64,
    written_frames: u64,
    last_flush: Instant,
    stats: SinkStats,
}

impl BvhRecorder {
    /// Create `path` (an error when it exists) and write the header.
    pub fn create(path: &Path, units: Units, fps: f32) -> Result<Self, SinkError> {
        let io = |source| SinkError::Io { path: path.to_path_buf(), source };
        let bvh = skeleton(units, fps);
        let text = bvh_write::to_string(&bvh);
        let motion = text.find("MOTION\n").ok_or_else(|| SinkError::Empty("BVH writer gave no MOTION".into()))?;
        let hierarchy = &text[..motion];
        let frames_line = format!("Frames: {:<COUNT_WIDTH$}\n", 0);
        let header = format!("{hierarchy}MOTION\n{frames_line}Frame Time: {}\n", bvh.frame_time);
        let count_at = (hierarchy.len() + "MOTION\nFrames: ".len()) as u64;
        let mut file = super::take::create_new(path)?;
        file.write_all(header.as_bytes()).map_err(io)?;
        let order = bvh_write::write_order(&bvh);
        Ok(Self {
            path: path.to_path_buf(),
            file: Some(file),
            count_at,
            order,
            units,
            pending: String::new(),
            pending_frames: 0,
            written_frames: 0,
            last_flush: Instant::now(),
            stats: SinkStats { bytes: header.len() as u64, ..SinkStats::default() },
        })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Frames on disk and counted in the header.
    pub fn frames_on_disk(&self) -> u64 {
        self.written_frames
    }

    fn line(&self, f: &MotionFrame) -> String {
        let mut s: String = frame_values(f, &self.order, self.units).iter().map(|v| format!("{v} ")).collect();
        s.pop();
        s.push('\n');
        s
    }
}

impl Sink for BvhRecorder {
    fn send(&mut self, frame: &MotionFrame) -> Result<(), SinkError> {
        if self.file.is_none() {
            return Err(SinkError::Finished);
        }
        let (clean, fixed) = frame.sanitized();
        self.stats.sanitized += fixed;
        let line = self.line(&clean);
        self.pending.push_str(&line);
        self.pending_frames += 1;
        self.stats.frames += 1;
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    /// Append the pending frames, then patch the count: the file is valid after every step.
    fn flush(&mut self) -> Result<(), SinkError> {
        let io = |source| SinkError::Io { path: self.path.clone(), source };
        let Some(file) = self.file.as_mut() else { return Ok(()) };
        self.last_flush = Instant::now();
        if self.pending_frames == 0 {
            return Ok(());
        }
        file.seek(SeekFrom::End(0)).map_err(io)?;
        file.write_all(self.pending.as_bytes()).map_err(io)?;
        file.sync_data().map_err(io)?;
        let total = self.written_frames + self.pending_frames;
        file.seek(SeekFrom::Start(self.count_at)).map_err(io)?;
        file.write_all(format!("{total:<COUNT_WIDTH$}").as_bytes()).map_err(io)?;
        file.sync_data().map_err(io)?;
        self.stats.bytes += self.pending.len() as u64;
        self.written_frames = total;
        self.pending.clear();
        self.pending_frames = 0;
        Ok(())
    }

    /// Flushes and closes; a recording without a frame removes its (header-only) file.
    fn finish(&mut self) -> Result<(), SinkError> {
        if self.file.is_none() {
            return Ok(());
        }
        self.flush()?;
        self.file = None;
        if self.written_frames == 0 {
            tracing::info!("no frame recorded: removed the empty {}", self.path.display());
            std::fs::remove_file(&self.path).map_err(|source| SinkError::Io { path: self.path.clone(), source })?;
        }
        Ok(())
    }

    fn stats(&self) -> SinkStats {
        self.stats
    }
}

impl Drop for BvhRecorder {
    fn drop(&mut self) {
        if let Err(e) = self.finish() {
            tracing::warn!("BVH recorder: final flush failed: {e}");
        }
    }
}
