//! `mocapd.motion/1` JSON Lines recorder ([`crate::motion::file`]): one line per frame with
//! joint positions from forward kinematics, written while running and flushed every 0.5 s, so a
//! crash loses at most that much and every complete line parses.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{MotionFrame, Sink, SinkError, SinkStats};
use crate::motion::{MotionFileError, MotionHeader, MotionWriter};

/// The motion-file recorder sink.
pub struct MotionRecorder {
    path: PathBuf,
    writer: Option<MotionWriter>,
    last_flush: Instant,
    stats: SinkStats,
}

fn io(path: &Path, e: MotionFileError) -> SinkError {
    SinkError::Io { path: path.into(), source: std::io::Error::other(e.to_string()) }
}

impl MotionRecorder {
    pub fn create(path: &Path, fps: f64) -> Result<Self, SinkError> {
        let writer = MotionWriter::create(path, &MotionHeader::smpl24(fps)).map_err(|e| io(path, e))?;
        Ok(Self { path: path.into(), writer: Some(writer), last_flush: Instant::now(), stats: SinkStats::default() })
    }
}

impl Sink for MotionRecorder {
    fn send(&mut self, frame: &MotionFrame) -> Result<(), SinkError> {
        let w = self.writer.as_mut().ok_or(SinkError::Finished)?;
        let (f, fixed) = frame.sanitized();
        self.stats.sanitized += fixed;
        w.write(&f).map_err(|e| io(&self.path, e))?;
        self.stats.frames += 1;
        if self.last_flush.elapsed() > Duration::from_millis(500) {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.last_flush = Instant::now();
        match self.writer.as_mut() {
            Some(w) => w.flush().map_err(|e| io(&self.path, e)),
            None => Ok(()),
        }
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        match self.writer.take() {
            Some(w) => w.finish().map(|_| ()).map_err(|e| io(&self.path, e)),
            None => Ok(()),
        }
    }

    fn stats(&self) -> SinkStats {
        self.stats
    }
}
