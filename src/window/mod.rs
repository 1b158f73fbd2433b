//! The live 2D history: a fixed-capacity ring (`ringbuf`) of the performer's last N poses
//! (keypoints, timestamps, validity), indexed by an absolute frame counter so the denoise loop
//! can tell which frames it has already sent. Pushing onto a full ring overwrites the oldest.
use std::time::Instant;

use ringbuf::traits::{Consumer, Observer, RingBuffer};
use ringbuf::HeapRb;

use crate::motion::Frame2d;

/// One frame of the performer's 2D pose, as the pose stage produced it.
#[derive(Debug, Clone)]
pub struct Pose2d {
    /// Source frame sequence number.
    pub seq: u64,
    /// Media time in seconds.
    pub t: f64,
    /// When the source captured the frame.
    pub captured: Instant,
    /// When the pose stage finished the frame.
    pub posed: Instant,
    /// Pixel `(x, y, c)`; all zero when nobody is in view.
    pub keypoints: Frame2d,
    /// True when the performer was detected in this frame.
    pub seen: bool,
    /// People detected in the frame.
    pub people: u32,
}

/// The last `capacity` poses; frame `i` is the `i`-th pose ever pushed.
pub struct Window {
    rb: HeapRb<Pose2d>,
    end: u64,
}

impl Window {
    pub fn new(capacity: usize) -> Self {
        Self { rb: HeapRb::new(capacity.max(1)), end: 0 }
    }

    /// Appends a pose (dropping the oldest when full); returns its absolute index.
    pub fn push(&mut self, p: Pose2d) -> u64 {
        self.rb.push_overwrite(p);
        self.end += 1;
        self.end - 1
    }

    pub fn capacity(&self) -> usize {
        self.rb.capacity().get()
    }

    pub fn len(&self) -> usize {
        self.rb.occupied_len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One past the newest frame's index.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// The oldest frame still held.
    pub fn start(&self) -> u64 {
        self.end - self.len() as u64
    }

    /// Frame `i`, if still held.
    pub fn get(&self, i: u64) -> Option<&Pose2d> {
        if i < self.start() || i >= self.end {
            return None;
        }
        self.rb.iter().nth((i - self.start()) as usize)
    }

    /// Keypoints of frames `start..start + len`, holding the newest frame past the end (the
    /// model always takes full windows). `start` must be held and the window non-empty.
    pub fn keypoints(&self, start: u64, len: usize) -> Vec<Frame2d> {
        let held: Vec<&Pose2d> = self.rb.iter().skip((start.saturating_sub(self.start())) as usize).collect();
        (0..len).map(|k| held[k.min(held.len().saturating_sub(1))].keypoints).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pose(seq: u64) -> Pose2d {
        let now = Instant::now();
        Pose2d { seq, t: seq as f64 / 30.0, captured: now, posed: now, keypoints: [[seq as f32, 0.0, 1.0]; 17], seen: true, people: 1 }
    }

    #[test]
    fn keeps_the_newest_and_pads_by_holding() {
        let mut w = Window::new(4);
        for s in 0..6 {
            assert_eq!(w.push(pose(s)), s);
        }
        assert_eq!((w.start(), w.end(), w.len()), (2, 6, 4));
        assert!(w.get(1).is_none());
        assert_eq!(w.get(3).map(|p| p.seq), Some(3));
        let kp = w.keypoints(4, 4);
        assert_eq!(kp.iter().map(|f| f[0][0]).collect::<Vec<_>>(), vec![4.0, 5.0, 5.0, 5.0]);
    }
}
