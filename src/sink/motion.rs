//! `mocapd.motion/1` JSON Lines recorder ([`crate::motion::file`]): one line per frame with
//! joint positions from forward kinematics. Lines are written whole, one `write` of complete
//! lines per flush, flushed (and `fsync`ed) at least every 0.5 s, so a crash loses at most that
//! much and the file ends on a complete line (a kill during the write itself can cut the last
//! line, which [`crate::motion::read_motion`] drops and reports). The file is created with
//! `create_new` (never overwritten); a recording that got no frame removes it at finish. It is
//! the take's crash-safe master copy: `mocapd recover` rebuilds the `.vrma` and BVH from it.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{MotionFrame, Sink, SinkError, SinkStats};
use crate::motion::{MotionFileError, MotionHeader, MotionWriter};

/// Longest time frames stay in memory before a flush (while frames arrive; the `recorders`
/// thread also flushes when they stop).
pub const FLUSH_EVERY: Duration = Duration::from_millis(500);

/// The motion-file recorder sink.
pub struct MotionRecorder {
    path: PathBuf,
    writer: Option<MotionWriter>,
    last_flush: Instant,
    stats: SinkStats,
}

fn io(path: &Path, e: MotionFileError) -> SinkError {
    match e {
        MotionFileError::Write { source, .. } | MotionFileError::Open { source, .. } => SinkError::Io { path: path.into(), source },
        e => SinkError::Io { path: path.into(), source: std::io::Error::other(e.to_string()) },
    }
}

impl MotionRecorder {
    /// Creates `path` (an error when it exists) and writes the header.
    pub fn create(path: &Path, fps: f64) -> Result<Self, SinkError> {
        let writer = MotionWriter::create_new(path, &MotionHeader::smpl24(fps)).map_err(|e| io(path, e))?;
        Ok(Self { path: path.into(), writer: Some(writer), last_flush: Instant::now(), stats: SinkStats::default() })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Sink for MotionRecorder {
    fn send(&mut self, frame: &MotionFrame) -> Result<(), SinkError> {
        let w = self.writer.as_mut().ok_or(SinkError::Finished)?;
        let (f, fixed) = frame.sanitized();
        self.stats.sanitized += fixed;
        w.write(&f).map_err(|e| io(&self.path, e))?;
        self.stats.frames += 1;
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the pending lines (whole) and `fsync`s them.
    fn flush(&mut self) -> Result<(), SinkError> {
        self.last_flush = Instant::now();
        match self.writer.as_mut() {
            Some(w) => w.sync().map_err(|e| io(&self.path, e)),
            None => Ok(()),
        }
    }

    /// Flushes and closes; a recording without a frame removes its (header-only) file.
    fn finish(&mut self) -> Result<(), SinkError> {
        let Some(mut w) = self.writer.take() else { return Ok(()) };
        w.sync().map_err(|e| io(&self.path, e))?;
        let frames = w.finish().map_err(|e| io(&self.path, e))?;
        if frames == 0 {
            tracing::info!("no frame recorded: removed the empty {}", self.path.display());
            std::fs::remove_file(&self.path).map_err(|source| SinkError::Io { path: self.path.clone(), source })?;
        }
        Ok(())
    }

    fn stats(&self) -> SinkStats {
        self.stats
    }
}

impl Drop for MotionRecorder {
    fn drop(&mut self) {
        if let Err(e) = self.finish() {
            tracing::warn!("motion recorder: final flush failed: {e}");
        }
    }
}
