//! Pose data passed between stages: COCO-17 keypoints, people and per-frame results.

use serde::{Deserialize, Serialize};

/// Number of COCO keypoints and their names in model output order (defined with the skeleton).
pub use crate::skeleton::coco::{COCO_NAMES as COCO17_NAMES, NUM_COCO as NUM_KEYPOINTS};

/// Below this confidence a keypoint is "marked": kept as the model gave it, but not trusted.
pub const DEFAULT_MIN_CONFIDENCE: f32 = 0.3;

/// One keypoint in image pixels with the model's confidence in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Keypoint {
    pub x: f32,
    pub y: f32,
    pub c: f32,
}

impl Keypoint {
    /// True when the keypoint's confidence reaches `min_confidence`.
    pub fn is_confident(&self, min_confidence: f32) -> bool {
        self.c >= min_confidence
    }
}

/// One detected person.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    /// Track identity, stable across frames (assigned by the tracker).
    pub id: u32,
    /// Mean keypoint confidence (single-person models) or the detector's score (multipose).
    pub score: f32,
    /// Bounding box `[x0, y0, x1, y1]` in image pixels.
    pub bbox: [f32; 4],
    pub keypoints: [Keypoint; NUM_KEYPOINTS],
}

impl Person {
    /// Box around the keypoints at or above `min_confidence`; `None` when fewer than two qualify.
    pub fn keypoint_box(keypoints: &[Keypoint; NUM_KEYPOINTS], min_confidence: f32) -> Option<[f32; 4]> {
        let mut b = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
        let mut n = 0;
        for k in keypoints.iter().filter(|k| k.is_confident(min_confidence)) {
            b = [b[0].min(k.x), b[1].min(k.y), b[2].max(k.x), b[3].max(k.y)];
            n += 1;
        }
        (n >= 2).then_some(b)
    }
}

/// The people seen in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct PoseFrame {
    /// Frame sequence number from the source.
    pub frame: u64,
    /// Media time in seconds (position in the file, or time since the live source started).
    pub t: f64,
    /// Frame size in pixels.
    pub width: u32,
    pub height: u32,
    /// Track id of the performer (the person who drives the avatar), when one is chosen.
    /// The performer is `people[0]` in frames where they are seen.
    pub performer: Option<u32>,
    pub people: Vec<Person>,
}

impl PoseFrame {
    /// The performer, when seen in this frame.
    pub fn performer(&self) -> Option<&Person> {
        let id = self.performer?;
        self.people.iter().find(|p| p.id == id)
    }
}

/// Wire form of a person in `mocapd.keypoints/1` (see `pose::record`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonRecord {
    pub id: u32,
    pub score: f32,
    pub bbox: [f32; 4],
    pub keypoints: Vec<[f32; 3]>,
}
