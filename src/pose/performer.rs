//! One performer's COCO-17 keypoints per frame from a `mocapd.keypoints/1` file: what the lifter
//! and the daemon's keypoint replay read.
//!
//! Performer choice per frame: the frame's `performer` id when the file names one, otherwise the
//! track id seen in the most frames of the whole file (ties: the lowest id). Frames where that
//! person is absent get all-zero keypoints (confidence 0) and are flagged missing.
//!
//! The model works at [`MODEL_FPS`]: [`Track2d::resample`] puts a track of another rate on a
//! 30 fps grid before lifting, [`Track2d::decimate`] thins a faster one the way the daemon does.
use std::collections::HashMap;

use super::record::Header;
use super::PoseFrame;
use crate::motion::{Decimator, Frame2d, MODEL_FPS};
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

    /// The track's frame rate: the header's when valid, else from the median time step, else
    /// [`MODEL_FPS`].
    pub fn fps(&self) -> f64 {
        if self.header.fps.is_finite() && self.header.fps > 0.0 {
            return self.header.fps;
        }
        let mut dt: Vec<f64> = self.t.windows(2).map(|w| w[1] - w[0]).filter(|d| d.is_finite() && *d > 0.0).collect();
        if dt.is_empty() {
            return MODEL_FPS;
        }
        dt.sort_by(f64::total_cmp);
        1.0 / dt[dt.len() / 2]
    }

    /// The track on a regular grid of `fps` (`fps > 0`) over the input's time span: grid frame
    /// `k` (frame number `k`) is at `t₀ + k / fps`, `k = 0 ..= ⌊(t_last − t₀)·fps⌋` (the grid
    /// does not run past the last input frame). Each grid frame takes the two input frames
    /// around its time: where both were seen, each keypoint's `x`, `y` and confidence are
    /// interpolated linearly by time (a keypoint zeroed in one of them, confidence 0, is taken
    /// from the nearer frame instead); otherwise the nearer frame's keypoints. A grid frame is
    /// `seen` when its nearer input frame was. The header's rate becomes `fps`. Input times must
    /// not decrease (a step back is treated as no time passing).
    pub fn resample(&self, fps: f64) -> Track2d {
        let header = Header { fps, ..self.header.clone() };
        let mut out = Track2d { header, frame: vec![], t: vec![], keypoints: vec![], seen: vec![], fallback_id: self.fallback_id };
        if self.is_empty() || !(fps.is_finite() && fps > 0.0) {
            return out;
        }
        let n = self.len();
        let t0 = self.t[0];
        let span = (self.t[n - 1] - t0).max(0.0);
        let count = (span * fps + 1e-6).floor() as usize + 1;
        let mut j = 0; // first input frame with t > the grid time
        for k in 0..count {
            let t = t0 + k as f64 / fps;
            while j < n && self.t[j] <= t {
                j += 1;
            }
            let (a, b) = (j.saturating_sub(1), j.min(n - 1));
            let dt = self.t[b] - self.t[a];
            let w = if b > a && dt > 0.0 { ((t - self.t[a]) / dt).clamp(0.0, 1.0) } else { 0.0 };
            let near = if w < 0.5 { a } else { b };
            let kp = if self.seen[a] && self.seen[b] && a != b {
                let wf = w as f32;
                let (ka, kb, kn) = (&self.keypoints[a], &self.keypoints[b], &self.keypoints[near]);
                std::array::from_fn(|p| {
                    if ka[p][2] > 0.0 && kb[p][2] > 0.0 {
                        std::array::from_fn(|c| ka[p][c] + wf * (kb[p][c] - ka[p][c]))
                    } else {
                        kn[p]
                    }
                })
            } else {
                self.keypoints[near]
            };
            out.frame.push(k as u64);
            out.t.push(t);
            out.keypoints.push(kp);
            out.seen.push(self.seen[near]);
        }
        out
    }

    /// The input frames at `indices` (in that order), header unchanged.
    pub fn subset(&self, indices: &[usize]) -> Track2d {
        Track2d {
            header: self.header.clone(),
            frame: indices.iter().map(|&i| self.frame[i]).collect(),
            t: indices.iter().map(|&i| self.t[i]).collect(),
            keypoints: indices.iter().map(|&i| self.keypoints[i]).collect(),
            seen: indices.iter().map(|&i| self.seen[i]).collect(),
            fallback_id: self.fallback_id,
        }
    }

    /// Indices of the frames the daemon keeps from this track ([`Decimator`]: a track faster
    /// than the model's rate thinned to about 30 fps; every frame otherwise).
    pub fn decimated_indices(&self) -> Vec<usize> {
        let mut d = Decimator::new(self.fps());
        (0..self.len()).filter(|&i| d.keep(self.t[i])).collect()
    }

    /// The frames the daemon keeps ([`Self::decimated_indices`]), the header's rate set to the
    /// rate they run at.
    pub fn decimate(&self) -> Track2d {
        let mut out = self.subset(&self.decimated_indices());
        out.header.fps = Decimator::output_fps(self.fps());
        out
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A constant-velocity track: keypoint `j` at `(100 + 50 t + j, 200 − 20 t)`, confidence
    /// `0.5 + 0.1 t`; unseen frames (all zero) at `unseen`.
    fn linear(fps: f64, n: usize, unseen: std::ops::Range<usize>) -> Track2d {
        let t: Vec<f64> = (0..n).map(|i| i as f64 / fps).collect();
        Track2d {
            header: Header::new(fps, 640, 480, "test"),
            frame: (0..n as u64).collect(),
            seen: (0..n).map(|i| !unseen.contains(&i)).collect(),
            keypoints: t.iter().enumerate().map(|(i, &t)| if unseen.contains(&i) { [[0.0; 3]; NUM_COCO] } else { at(t) }).collect(),
            t,
            fallback_id: Some(1),
        }
    }

    fn at(t: f64) -> Frame2d {
        let t = t as f32;
        std::array::from_fn(|j| [100.0 + 50.0 * t + j as f32, 200.0 - 20.0 * t, 0.5 + 0.1 * t])
    }

    fn close(a: &Frame2d, b: &Frame2d) -> bool {
        a.iter().zip(b).all(|(p, q)| (0..3).all(|c| (p[c] - q[c]).abs() < 1e-4))
    }

    #[test]
    fn resample_60_and_25_fps_to_30_on_the_grid() {
        // 60 fps, 121 frames (2 s): 61 grid frames, on every second input frame
        let tr = linear(60.0, 121, 10..14);
        let g = tr.resample(30.0);
        assert_eq!((g.len(), g.header.fps, g.fallback_id), (61, 30.0, Some(1)));
        for k in 0..g.len() {
            assert_eq!((g.frame[k], g.t[k]), (k as u64, k as f64 / 30.0));
            assert_eq!(g.seen[k], !(10..14).contains(&(2 * k)), "grid frame {k}");
            if g.seen[k] {
                assert!(close(&g.keypoints[k], &at(g.t[k])), "grid frame {k}");
            } else {
                assert_eq!(g.keypoints[k], [[0.0; 3]; NUM_COCO]);
            }
        }
        // 25 fps, 51 frames (2 s): 61 grid frames, most between two input frames
        let tr = linear(25.0, 51, 0..0);
        let g = tr.resample(30.0);
        assert_eq!(g.len(), 61);
        assert!(g.seen.iter().all(|&s| s));
        for k in 0..g.len() {
            assert!(close(&g.keypoints[k], &at(g.t[k])), "grid frame {k}: {:?} vs {:?}", g.keypoints[k][0], at(g.t[k])[0]);
        }
        // a grid time next to an unseen input frame: nearer frame decides
        let tr = linear(25.0, 51, 5..6); // input frame 5 at 0.2 s = grid frame 6
        let g = tr.resample(30.0);
        assert!(!g.seen[6] && g.keypoints[6] == [[0.0; 3]; NUM_COCO]);
        // grid 5 (0.1667 s) lies between input 4 (0.16, seen, nearer) and 5 (unseen): input 4 held
        assert!(g.seen[5] && g.keypoints[5] == tr.keypoints[4]);
        // 30 fps onto 30 fps: the same keypoints
        let tr = linear(30.0, 40, 3..5);
        let g = tr.resample(30.0);
        assert_eq!((g.keypoints.len(), &g.seen), (40, &tr.seen));
        assert!(g.keypoints.iter().zip(&tr.keypoints).all(|(a, b)| close(a, b)));
        assert!(linear(30.0, 0, 0..0).resample(30.0).is_empty());
    }

    #[test]
    fn resample_takes_a_zeroed_keypoint_from_the_nearer_frame() {
        let mut tr = linear(20.0, 5, 0..0);
        tr.keypoints[2][4] = [0.0; 3]; // keypoint 4 below threshold in input frame 2 (0.1 s)
        let g = tr.resample(30.0); // grid 2 at 0.0667 s: between input 1 (nearer) and 2; grid 4 at 0.1333 s: nearer 3
        assert_eq!(g.keypoints[2][4], tr.keypoints[1][4]);
        assert_eq!(g.keypoints[4][4], tr.keypoints[3][4]);
        assert!(close(&[g.keypoints[2][5]; NUM_COCO], &[at(g.t[2])[5]; NUM_COCO]));
    }

    #[test]
    fn fps_and_decimate() {
        let mut tr = linear(60.0, 120, 0..0);
        assert_eq!(tr.fps(), 60.0);
        let d = tr.decimate();
        assert_eq!((d.len(), d.header.fps), (60, 30.0));
        assert_eq!(d.frame, (0..120).step_by(2).collect::<Vec<u64>>());
        tr.header.fps = 0.0; // from the timestamps
        assert!((tr.fps() - 60.0).abs() < 1e-6);
        let tr = linear(25.0, 50, 0..0);
        assert_eq!(tr.decimate().len(), 50);
    }
}
