//! One performer's COCO-17 keypoints per frame from a `mocapd.keypoints/1` file: what the lifter
//! and the daemon's keypoint replay read.
//!
//! Performer choice per frame: the frame's `performer` id when the file names one, otherwise the
//! track id seen in the most frames of the whole file (ties: the lowest id). Frames where that
//! person is absent get all-zero keypoints (confidence 0) and are flagged missing.
use std::collections::HashMap;

use super::record::Header;
use super::PoseFrame;
use crate::motion::Frame2d;
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
