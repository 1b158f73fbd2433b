//! Crash-safe BVH recorder: SMPL-24 as a BVH skeleton (right-handed, Y up, metres or
//! centimetres; SMPL rest offsets as OFFSETs; `ROOT Hips` with 6 channels, joints `Zrotation
//! Xrotation Yrotation`, End Sites on the leaves). The header carries a fixed-width `Frames:`
//! count that is patched on every flush (at most once a second, and at finish), so a file cut by
//! `kill -9` still imports up to its last flush: readers stop at the declared count. Each flush
//! is one write of whole lines followed by the count, so a kill between flushes leaves only
//! complete lines (what Blender's importer, which ignores the count, needs); only a kill during
//! that sub-millisecond write can leave a partial last line, which count-honouring readers skip.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{MotionFrame, Sink, SinkError, SinkStats};
use crate::data::bvh::{Bvh, Channel, Joint};
use crate::data::bvh_write;
use crate::skeleton::rotation::{quat_to_zxy_degrees, Vec3};
use crate::skeleton::smpl::{self, JOINT_NAMES, NUM_JOINTS};

/// Width of the patched `Frames:` count.
const COUNT_WIDTH: usize = 10;
/// Longest time frames stay in memory before a flush.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Length unit of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Units {
    #[default]
    Metres,
    Centimetres,
}

impl Units {
    pub fn scale(self) -> f32 {
        match self {
            Units::Metres => 1.0,
            Units::Centimetres => 100.0,
        }
    }
}

/// End Site offsets (metres) of the SMPL leaves: toes forward, head up, hands along the arm.
fn end_site(j: usize) -> Option<Vec3> {
    match j {
        10 | 11 => Some([0.0, 0.0, 0.05]),
        15 => Some([0.0, 0.1, 0.0]),
        22 => Some([0.08, 0.0, 0.0]),
        23 => Some([-0.08, 0.0, 0.0]),
        _ => None,
    }
}

/// The recorder's hierarchy: `Hips` then the SMPL joint names, SMPL order (depth-first is not
/// required by readers that take parents; the writer emits children depth-first).
pub fn skeleton(units: Units, fps: f32) -> Bvh {
    let s = units.scale();
    let offsets = smpl::rest_offsets();
    let rot = vec![Channel::Zrotation, Channel::Xrotation, Channel::Yrotation];
    let joints = (0..NUM_JOINTS)
        .map(|j| Joint {
            name: if j == 0 { "Hips".to_string() } else { JOINT_NAMES[j].to_string() },
            parent: smpl::parent(j),
            offset: offsets[j].map(|v| v * s),
            channels: if j == 0 {
                [Channel::Xposition, Channel::Yposition, Channel::Zposition].into_iter().chain(rot.clone()).collect()
            } else {
                rot.clone()
            },
            end_site: end_site(j).map(|e| e.map(|v| v * s)),
        })
        .collect();
    Bvh { joints, frame_time: 1.0 / fps.max(1e-3) as f64, frames: Vec::new() }
}

/// The BVH recorder sink.
#[derive(Debug)]
pub struct BvhRecorder {
    path: PathBuf,
    file: Option<File>,
    count_at: u64,
    order: Vec<usize>,
    scale: f32,
    pending: String,
    pending_frames: u64,
    written_frames: u64,
    last_flush: Instant,
    stats: SinkStats,
}

impl BvhRecorder {
    /// Create `path` and write the header.
    pub fn create(path: &Path, units: Units, fps: f32) -> Result<Self, SinkError> {
        let io = |source| SinkError::Io { path: path.to_path_buf(), source };
        let bvh = skeleton(units, fps);
        let text = bvh_write::to_string(&bvh);
        let motion = text.find("MOTION\n").ok_or_else(|| SinkError::Empty("BVH writer gave no MOTION".into()))?;
        let hierarchy = &text[..motion];
        let frames_line = format!("Frames: {:<COUNT_WIDTH$}\n", 0);
        let header = format!("{hierarchy}MOTION\n{frames_line}Frame Time: {}\n", bvh.frame_time);
        let count_at = (hierarchy.len() + "MOTION\nFrames: ".len()) as u64;
        let mut file = File::create(path).map_err(io)?;
        file.write_all(header.as_bytes()).map_err(io)?;
        let order = bvh_write::write_order(&bvh);
        Ok(Self {
            path: path.to_path_buf(),
            file: Some(file),
            count_at,
            order,
            scale: units.scale(),
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
        let mut values: Vec<f32> = f.root.map(|v| v * self.scale).to_vec();
        for &j in &self.order {
            values.extend(quat_to_zxy_degrees(f.rotations[j]));
        }
        let mut s: String = values.iter().map(|v| format!("{v} ")).collect();
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

    fn finish(&mut self) -> Result<(), SinkError> {
        self.flush()?;
        self.file = None;
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
