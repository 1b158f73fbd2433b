//! The `mocapd.keypoints/1` file: JSON Lines of COCO-17 people per frame, written and read back.
//!
//! Line 1 is a header, then one line per frame:
//! ```text
//! {"format":"mocapd.keypoints/1","fps":30.0,"width":W,"height":H,"layout":"coco17","source":"..."}
//! {"frame":N,"t":SECONDS,"people":[{"id":K,"score":S,"bbox":[x0,y0,x1,y1],"keypoints":[[x,y,c], ...17]}]}
//! ```
//! Coordinates are image pixels, `c` is in [0, 1], and `people` is `[]` when nobody is seen.
//! mocapd adds one optional key, `"performer":K` (after `t`), naming the track id of the person who
//! drives the avatar; the performer is listed first whenever seen. Readers accept files without it.
//! Floats are written in their shortest exact form, so a file round-trips bit for bit.

use super::types::{Keypoint, Person, PersonRecord, PoseFrame, NUM_KEYPOINTS};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The format tag on line 1.
pub const FORMAT: &str = "mocapd.keypoints/1";

/// Line 1 of a keypoint file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub format: String,
    pub fps: f64,
    pub width: u32,
    pub height: u32,
    pub layout: String,
    pub source: String,
}

impl Header {
    pub fn new(fps: f64, width: u32, height: u32, source: impl Into<String>) -> Self {
        Self { format: FORMAT.into(), fps, width, height, layout: "coco17".into(), source: source.into() }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameRecord {
    frame: u64,
    t: f64,
    /// Optional addition to the format: the performer's track id (absent or null when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    performer: Option<u32>,
    people: Vec<PersonRecord>,
}

/// What can go wrong reading or writing a keypoint file. Line numbers count from 1.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot open keypoint file '{path}': {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("cannot write keypoint file '{path}': {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("keypoint file '{path}' is empty: expected a '{FORMAT}' header on line 1")]
    Empty { path: PathBuf },
    #[error("{path}:{line}: {problem}")]
    Bad { path: PathBuf, line: usize, problem: String },
}

/// Writes a keypoint file frame by frame; every line is flushed to the OS at `finish` or drop.
pub struct KeypointWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl KeypointWriter {
    pub fn create(path: &Path, header: &Header) -> Result<Self, RecordError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| RecordError::Write { path: path.into(), source })?;
        }
        let file = File::create(path).map_err(|source| RecordError::Write { path: path.into(), source })?;
        let mut w = Self { path: path.into(), out: BufWriter::new(file) };
        w.line(header)?;
        Ok(w)
    }

    pub fn write(&mut self, frame: &PoseFrame) -> Result<(), RecordError> {
        let people = frame.people.iter().map(to_record).collect();
        self.line(&FrameRecord { frame: frame.frame, t: frame.t, performer: frame.performer, people })
    }

    /// Flushes everything written so far.
    pub fn finish(mut self) -> Result<(), RecordError> {
        self.out.flush().map_err(|source| RecordError::Write { path: self.path.clone(), source })
    }

    fn line<T: Serialize>(&mut self, value: &T) -> Result<(), RecordError> {
        let io = |source| RecordError::Write { path: self.path.clone(), source };
        serde_json::to_writer(&mut self.out, value).map_err(|e| io(e.into()))?;
        self.out.write_all(b"\n").map_err(io)
    }
}

fn to_record(p: &Person) -> PersonRecord {
    // Non-finite numbers cannot be written as JSON: mark such a joint unseen at (0, 0).
    let keypoints = p
        .keypoints
        .iter()
        .map(|k| if k.x.is_finite() && k.y.is_finite() && k.c.is_finite() { [k.x, k.y, k.c] } else { [0.0, 0.0, 0.0] })
        .collect();
    let score = if p.score.is_finite() { p.score } else { 0.0 };
    PersonRecord { id: p.id, score, bbox: p.bbox.map(|v| if v.is_finite() { v } else { 0.0 }), keypoints }
}

/// Reads a keypoint file: the header at once, then frames one at a time.
pub struct KeypointReader {
    path: PathBuf,
    lines: std::io::Lines<BufReader<File>>,
    line: usize,
    header: Header,
    /// `t` of the last frame read: times must increase.
    last_t: Option<f64>,
}

/// The largest `t` a keypoint file may hold, seconds (about 115 days).
pub const MAX_T: f64 = 1e7;

impl KeypointReader {
    pub fn open(path: &Path) -> Result<Self, RecordError> {
        let file = File::open(path).map_err(|source| RecordError::Open { path: path.into(), source })?;
        let mut lines = BufReader::new(file).lines();
        let first = match lines.next() {
            None => return Err(RecordError::Empty { path: path.into() }),
            Some(l) => l.map_err(|source| RecordError::Open { path: path.into(), source })?,
        };
        let bad = |problem: String| RecordError::Bad { path: path.into(), line: 1, problem };
        let header: Header = serde_json::from_str(&first)
            .map_err(|e| bad(format!("not a '{FORMAT}' header ({e}); was this file written by `mocapd keypoints`?")))?;
        if header.format != FORMAT {
            return Err(bad(format!("format is '{}', expected '{FORMAT}'", header.format)));
        }
        if header.layout != "coco17" {
            return Err(bad(format!("layout is '{}', only 'coco17' is supported", header.layout)));
        }
        if !(header.fps.is_finite() && header.fps > 0.0) {
            return Err(bad(format!("fps must be a positive number, got {}", header.fps)));
        }
        if header.width == 0 || header.height == 0 {
            return Err(bad("width and height must be positive".into()));
        }
        Ok(Self { path: path.into(), lines, line: 1, header, last_t: None })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Reads every remaining frame, stopping at the first bad line.
    pub fn read_all(self) -> Result<(Header, Vec<PoseFrame>), RecordError> {
        let header = self.header.clone();
        let frames = self.collect::<Result<Vec<_>, _>>()?;
        Ok((header, frames))
    }

    fn parse(&mut self, text: &str) -> Result<PoseFrame, String> {
        let rec: FrameRecord = serde_json::from_str(text).map_err(|e| format!("not a frame record: {e}"))?;
        if !rec.t.is_finite() {
            return Err("t is not a finite number".into());
        }
        if !(0.0..=MAX_T).contains(&rec.t) {
            return Err(format!("t = {} s is outside 0..={MAX_T:e} s: times are seconds from the start of the recording", rec.t));
        }
        if let Some(last) = self.last_t.filter(|&last| rec.t <= last) {
            return Err(format!(
                "t = {} s does not come after the previous frame's {last} s: frames must be in time order, once each \
                 (re-time or de-duplicate the file)",
                rec.t
            ));
        }
        self.last_t = Some(rec.t);
        let people = rec.people.into_iter().map(from_record).collect::<Result<_, _>>()?;
        Ok(PoseFrame { frame: rec.frame, t: rec.t, width: self.header.width, height: self.header.height, performer: rec.performer, people })
    }
}

impl Iterator for KeypointReader {
    type Item = Result<PoseFrame, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let text = match self.lines.next()? {
                Ok(t) => t,
                Err(source) => return Some(Err(RecordError::Open { path: self.path.clone(), source })),
            };
            self.line += 1;
            if text.trim().is_empty() {
                continue;
            }
            let line = self.line;
            return Some(self.parse(&text).map_err(|problem| RecordError::Bad { path: self.path.clone(), line, problem }));
        }
    }
}

fn from_record(r: PersonRecord) -> Result<Person, String> {
    if r.keypoints.len() != NUM_KEYPOINTS {
        return Err(format!("person {} has {} keypoints, COCO-17 needs {NUM_KEYPOINTS}", r.id, r.keypoints.len()));
    }
    let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
    if !finite(&r.bbox) || !r.score.is_finite() {
        return Err(format!("person {} has a non-finite score or bbox", r.id));
    }
    let mut keypoints = [Keypoint::default(); NUM_KEYPOINTS];
    for (i, (k, [x, y, c])) in keypoints.iter_mut().zip(r.keypoints).enumerate() {
        if !finite(&[x, y, c]) {
            return Err(format!("person {} keypoint {i} is not finite (NaN or infinity)", r.id));
        }
        if !(0.0..=1.0).contains(&c) {
            return Err(format!("person {} keypoint {i} has confidence {c}, outside [0, 1]", r.id));
        }
        *k = Keypoint { x, y, c };
    }
    Ok(Person { id: r.id, score: r.score, bbox: r.bbox, keypoints })
}
