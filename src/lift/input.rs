//! The lifter's input: one performer's COCO-17 keypoints per frame from a `mocapd.keypoints/1`
//! file, and the overlapping windows cut from them.
//!
//! Performer choice per frame: the frame's `performer` id when the file names one, otherwise the
//! track id seen in the most frames of the whole file (ties: the lowest id). Frames where that
//! person is absent get all-zero keypoints (confidence 0) and are flagged missing.
use std::collections::HashMap;

use crate::data::cond2d::Frame2d;
use crate::pose::record::Header;
use crate::pose::PoseFrame;
use crate::skeleton::coco::NUM_COCO;

/// The performer's keypoints, one entry per input frame.
#[derive(Debug, Clone)]
pub struct Track2d {
    pub header: Header,
    /// Frame numbers and times from the input.
    pub frame: Vec<u64>,
    pub t: Vec<f64>,
    /// Pixel `(x, y, c)`; all zero where the performer is missing.
    pub keypoints: Vec<Frame2d>,
    /// True where the performer was seen.
    pub seen: Vec<bool>,
    /// The fallback track id (most frequent), when any person was seen.
    pub fallback_id: Option<u32>,
}

impl Track2d {
    pub fn len(&self) -> usize {
        self.keypoints.len()
    }
    pub fn is_empty(&self) -> bool {
        self.keypoints.is_empty()
    }
}

/// Picks the performer per frame (see the module docs).
pub fn performer_track(header: Header, frames: &[PoseFrame]) -> Track2d {
    let mut counts: HashMap<u32, usize> = HashMap::new();
    for f in frames {
        for p in &f.people {
            *counts.entry(p.id).or_default() += 1;
        }
    }
    let fallback_id = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(id, _)| *id);
    let mut out = Track2d { header, frame: vec![], t: vec![], keypoints: vec![], seen: vec![], fallback_id };
    for f in frames {
        let id = f.performer.or(fallback_id);
        let person = id.and_then(|id| f.people.iter().find(|p| p.id == id));
        let kp: Frame2d = match person {
            Some(p) => std::array::from_fn(|j| {
                let k = p.keypoints[j];
                [k.x, k.y, k.c]
            }),
            None => [[0.0; 3]; NUM_COCO],
        };
        out.frame.push(f.frame);
        out.t.push(f.t);
        out.keypoints.push(kp);
        out.seen.push(person.is_some());
    }
    out
}

/// Window start frames for `n` frames, windows of `len` every `hop` (`hop ≤ len`): 0, hop,
/// 2·hop, … until a window reaches the last frame. The last window may run past the end (the
/// caller pads it by holding the last frame).
pub fn window_starts(n: usize, len: usize, hop: usize) -> Vec<usize> {
    let hop = hop.clamp(1, len.max(1));
    let mut v = vec![0];
    while v[v.len() - 1] + len < n {
        let next = v[v.len() - 1] + hop;
        v.push(next);
    }
    v
}

/// `len` frames from `start`, holding the last frame past the end of `frames` (non-empty).
pub fn padded<T: Clone>(frames: &[T], start: usize, len: usize) -> Vec<T> {
    (start..start + len).map(|i| frames[i.min(frames.len() - 1)].clone()).collect()
}
