//! Performer tracker: stable track ids across frames and short dropouts, and the choice of which track is the performer.

use std::{fmt, str::FromStr};

use super::types::{Keypoint, Person, NUM_KEYPOINTS};

/// Which tracked person is the performer. Once chosen, the performer keeps that role while its track lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerformerPolicy {
    /// The biggest box (area smoothed over the track's life; near-ties go to the older track).
    Largest,
    /// The box whose centre is nearest the image centre.
    MostCentral,
    /// Exactly this track id; no performer while it does not exist.
    TrackId(u32),
}

impl FromStr for PerformerPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "largest" => Ok(Self::Largest),
            "central" | "most-central" | "most_central" => Ok(Self::MostCentral),
            _ => s
                .strip_prefix("id:")
                .or_else(|| s.strip_prefix("track:"))
                .unwrap_or(&s)
                .parse()
                .map(Self::TrackId)
                .map_err(|_| format!("unknown performer policy '{s}': expected largest, central or id:<track id>")),
        }
    }
}

impl fmt::Display for PerformerPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Largest => f.write_str("largest"),
            Self::MostCentral => f.write_str("central"),
            Self::TrackId(id) => write!(f, "id:{id}"),
        }
    }
}

/// Keypoints at or above this take part in matching.
const MATCH_MIN_CONF: f32 = 0.2;
/// OKS falloff constant (COCO's 2*sigma averaged over joints).
const OKS_K: f32 = 0.1;
/// Minimum combined similarity (0.5 IoU + 0.5 OKS) to match a detection to a track.
const MATCH_GATE: f32 = 0.15;
/// Largest plausible change of a track's box area between two matched detections.
const MAX_AREA_CHANGE: f32 = 3.0;
/// The performer's track is held this many times the normal track timeout.
pub const PERFORMER_HOLD: f64 = 2.5;

#[derive(Debug, Clone)]
struct Track {
    id: u32,
    bbox: [f32; 4],
    keypoints: [Keypoint; NUM_KEYPOINTS],
    /// Box centre velocity in pixels per second.
    vel: [f32; 2],
    last_t: f64,
    born_t: f64,
    hits: u32,
    area_ema: f32,
}

impl Track {
    fn shift(&self, t: f64) -> [f32; 2] {
        let dt = (t - self.last_t).clamp(0.0, 0.3) as f32; // extrapolate at most 0.3 s
        [self.vel[0] * dt, self.vel[1] * dt]
    }
    fn predicted_box(&self, t: f64) -> [f32; 4] {
        let [dx, dy] = self.shift(t);
        [self.bbox[0] + dx, self.bbox[1] + dy, self.bbox[2] + dx, self.bbox[3] + dy]
    }
}

/// Assigns track ids to detections and keeps the performer.
#[derive(Debug, Clone)]
pub struct Tracker {
    tracks: Vec<Track>,
    next_id: u32,
    performer: Option<u32>,
    policy: PerformerPolicy,
    timeout_s: f64,
}

pub fn area(b: &[f32; 4]) -> f32 {
    (b[2] - b[0]).max(0.0) * (b[3] - b[1]).max(0.0)
}

pub fn center(b: &[f32; 4]) -> [f32; 2] {
    [(b[0] + b[2]) * 0.5, (b[1] + b[3]) * 0.5]
}

pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let inter = area(&[a[0].max(b[0]), a[1].max(b[1]), a[2].min(b[2]), a[3].min(b[3])]);
    let union = area(a) + area(b) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// Object keypoint similarity between `a` shifted by `shift` and `b`, over joints confident in both; 0 if none.
fn oks(a: &[Keypoint; NUM_KEYPOINTS], shift: [f32; 2], b: &[Keypoint; NUM_KEYPOINTS], scale_area: f32) -> f32 {
    let denom = 2.0 * scale_area.max(1.0) * OKS_K * OKS_K;
    let (mut sum, mut n) = (0.0, 0);
    for (p, q) in a.iter().zip(b) {
        if p.c >= MATCH_MIN_CONF && q.c >= MATCH_MIN_CONF {
            let (dx, dy) = (p.x + shift[0] - q.x, p.y + shift[1] - q.y);
            sum += (-(dx * dx + dy * dy) / denom).exp();
            n += 1;
        }
    }
    if n > 0 {
        sum / n as f32
    } else {
        0.0
    }
}

impl Tracker {
    /// `timeout_s`: how long an unseen track stays alive.
    pub fn new(policy: PerformerPolicy, timeout_s: f64) -> Self {
        Tracker { tracks: Vec::new(), next_id: 1, performer: None, policy, timeout_s }
    }

    /// Current performer track id, if a performer is chosen and its track is alive.
    pub fn performer(&self) -> Option<u32> {
        self.performer
    }

    /// Number of live tracks (seen or briefly lost).
    pub fn live_tracks(&self) -> usize {
        self.tracks.len()
    }

    /// The performer's last keypoints moved by its motion up to time `t` (for the crop of single-person models).
    pub fn performer_keypoints(&self, t: f64) -> Option<[Keypoint; NUM_KEYPOINTS]> {
        let tr = self.tracks.iter().find(|tr| Some(tr.id) == self.performer)?;
        let [dx, dy] = tr.shift(t);
        let mut k = tr.keypoints;
        k.iter_mut().for_each(|p| {
            p.x += dx;
            p.y += dy;
        });
        Some(k)
    }

    /// Matches `detections` (their `id` is ignored) at media time `t` in a `width` x `height` image.
    /// Returns the detections with track ids: the performer first when seen, the others by id.
    pub fn update(&mut self, detections: Vec<Person>, t: f64, width: u32, height: u32) -> Vec<Person> {
        self.update_hinted(detections, t, width, height, None)
    }

    /// Like [`Tracker::update`]; `performer_region` (pixels) is where the performer is expected (the crop of a
    /// single-person model): a detection centred there that matches no other track is the performer.
    ///
    /// While the performer is unseen its track is held `PERFORMER_HOLD` times longer than others, and a new
    /// detection (one matching no live track) within a motion gate that widens with the time lost is taken
    /// as the performer coming back: a jump or a spin that the model misses keeps the id.
    pub fn update_hinted(
        &mut self,
        detections: Vec<Person>,
        t: f64,
        width: u32,
        height: u32,
        performer_region: Option<[f32; 4]>,
    ) -> Vec<Person> {
        self.expire(t);
        // Greedy matching on combined IoU + OKS similarity with the motion-predicted track.
        let mut pairs = Vec::new();
        for (ti, tr) in self.tracks.iter().enumerate() {
            let pred = tr.predicted_box(t);
            for (di, d) in detections.iter().enumerate() {
                // A person does not grow or shrink 3x between frames: such a box is a different or broken detection.
                let ratio = area(&d.bbox) / area(&pred).max(1.0);
                if tr.hits >= 2 && !(1.0 / MAX_AREA_CHANGE..=MAX_AREA_CHANGE).contains(&ratio) {
                    continue;
                }
                let s = 0.5 * iou(&pred, &d.bbox) + 0.5 * oks(&tr.keypoints, tr.shift(t), &d.keypoints, area(&pred));
                if s >= MATCH_GATE {
                    pairs.push((s, ti, di));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut track_used = vec![false; self.tracks.len()];
        let mut det_track: Vec<Option<usize>> = vec![None; detections.len()];
        for (_, ti, di) in pairs {
            if !track_used[ti] && det_track[di].is_none() {
                track_used[ti] = true;
                det_track[di] = Some(ti);
            }
        }
        if let Some(merged) = self.reacquire_performer(&detections, &mut det_track, &track_used, t, performer_region) {
            self.tracks[merged].last_t = f64::NEG_INFINITY; // its detection now belongs to the performer
        }
        let mut out = Vec::with_capacity(detections.len());
        for (mut d, m) in detections.into_iter().zip(det_track) {
            match m {
                Some(ti) => {
                    let tr = &mut self.tracks[ti];
                    let dt = (t - tr.last_t) as f32;
                    if dt > 1e-4 {
                        let (c0, c1) = (center(&tr.bbox), center(&d.bbox));
                        let v = [(c1[0] - c0[0]) / dt, (c1[1] - c0[1]) / dt];
                        tr.vel = [0.5 * tr.vel[0] + 0.5 * v[0], 0.5 * tr.vel[1] + 0.5 * v[1]];
                    }
                    tr.bbox = d.bbox;
                    tr.keypoints = d.keypoints;
                    tr.last_t = t;
                    tr.hits += 1;
                    tr.area_ema = 0.8 * tr.area_ema + 0.2 * area(&d.bbox);
                    d.id = tr.id;
                }
                None => {
                    let id = self.next_id;
                    self.next_id = self.next_id.wrapping_add(1).max(1);
                    self.tracks.push(Track {
                        id,
                        bbox: d.bbox,
                        keypoints: d.keypoints,
                        vel: [0.0; 2],
                        last_t: t,
                        born_t: t,
                        hits: 1,
                        area_ema: area(&d.bbox),
                    });
                    d.id = id;
                }
            }
            out.push(d);
        }
        self.expire(t);
        if self.performer.is_none() {
            self.performer = self.choose(&out, width, height);
        }
        let perf = self.performer;
        out.sort_by_key(|p| (Some(p.id) != perf, p.id));
        out
    }

    /// Drops tracks unseen for longer than their timeout (the performer's is `PERFORMER_HOLD` times longer).
    fn expire(&mut self, t: f64) {
        let (timeout, perf) = (self.timeout_s, self.performer);
        self.tracks.retain(|tr| {
            let limit = if Some(tr.id) == perf { timeout * PERFORMER_HOLD } else { timeout };
            t - tr.last_t <= limit && t >= tr.last_t - limit
        });
        if self.performer.is_some_and(|p| !self.tracks.iter().any(|tr| tr.id == p)) {
            tracing::debug!(id = ?self.performer, "performer track lost");
            self.performer = None;
        }
    }

    /// Gives the unseen performer's track a detection that is in `region` or within its motion gate and is
    /// unmatched or matched to a track born (at most 3 frames ago) after the performer was last seen.
    /// Returns the index of that young track, which the caller retires.
    fn reacquire_performer(
        &self,
        dets: &[Person],
        det_track: &mut [Option<usize>],
        track_used: &[bool],
        t: f64,
        region: Option<[f32; 4]>,
    ) -> Option<usize> {
        let pi = self.tracks.iter().position(|tr| Some(tr.id) == self.performer)?;
        if track_used[pi] {
            return None;
        }
        let tr = &self.tracks[pi];
        let pred = center(&tr.predicted_box(t));
        let body = (tr.bbox[3] - tr.bbox[1]).max(tr.bbox[2] - tr.bbox[0]).max(1.0);
        let lost_s = (t - tr.last_t).max(0.0) as f32;
        // A falling or jumping person covers up to about three body heights a second.
        let gate = body * (0.75 + 3.0 * lost_s);
        let inside = |c: [f32; 2], r: &[f32; 4]| c[0] >= r[0] && c[0] <= r[2] && c[1] >= r[1] && c[1] <= r[3];
        let mut best: Option<(f32, usize)> = None;
        let young = |ti: usize| self.tracks[ti].born_t > tr.last_t && self.tracks[ti].hits <= 3;
        for (di, d) in dets.iter().enumerate().filter(|(di, _)| det_track[*di].is_none_or(young)) {
            let c = center(&d.bbox);
            let dist = (c[0] - pred[0]).hypot(c[1] - pred[1]);
            if (region.is_some_and(|r| inside(c, &r)) || dist <= gate) && best.is_none_or(|(bd, _)| dist < bd) {
                best = Some((dist, di));
            }
        }
        let (_, di) = best?;
        det_track[di].replace(pi)
    }

    /// Picks a performer among the people seen this frame.
    fn choose(&self, seen: &[Person], width: u32, height: u32) -> Option<u32> {
        let track = |id: u32| self.tracks.iter().find(|tr| tr.id == id);
        match self.policy {
            PerformerPolicy::TrackId(id) => track(id).map(|tr| tr.id),
            PerformerPolicy::MostCentral => {
                let c = [width as f32 * 0.5, height as f32 * 0.5];
                let dist = |p: &Person| {
                    let m = center(&p.bbox);
                    (m[0] - c[0]).hypot(m[1] - c[1])
                };
                seen.iter().min_by(|a, b| dist(a).total_cmp(&dist(b))).map(|p| p.id)
            }
            PerformerPolicy::Largest => {
                let mut best: Option<&Track> = None;
                for tr in seen.iter().filter_map(|p| track(p.id)) {
                    best = match best {
                        None => Some(tr),
                        // Hysteresis: a younger track must be clearly (20 %) bigger to win.
                        Some(b) if tr.hits > b.hits => Some(if tr.area_ema * 1.2 >= b.area_ema { tr } else { b }),
                        Some(b) if tr.hits < b.hits => Some(if tr.area_ema > b.area_ema * 1.2 { tr } else { b }),
                        Some(b) => Some(if tr.area_ema > b.area_ema { tr } else { b }),
                    };
                }
                best.map(|tr| tr.id)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A standing person `h` pixels tall with feet centred at (`x`, `y`).
    fn person(x: f32, y: f32, h: f32) -> Person {
        let mut keypoints = [Keypoint::default(); NUM_KEYPOINTS];
        for (i, k) in keypoints.iter_mut().enumerate() {
            let side = if i % 2 == 0 { 0.1 } else { -0.1 };
            *k = Keypoint { x: x + side * h, y: y - h * (1.0 - i as f32 / NUM_KEYPOINTS as f32), c: 0.9 };
        }
        Person { id: 0, score: 0.9, bbox: [x - 0.2 * h, y - h, x + 0.2 * h, y], keypoints }
    }

    fn ids(out: &[Person]) -> Vec<u32> {
        out.iter().map(|p| p.id).collect()
    }

    #[test]
    fn policies_parse_and_print() {
        assert_eq!("largest".parse::<PerformerPolicy>(), Ok(PerformerPolicy::Largest));
        assert_eq!("central".parse::<PerformerPolicy>(), Ok(PerformerPolicy::MostCentral));
        assert_eq!("id:7".parse::<PerformerPolicy>(), Ok(PerformerPolicy::TrackId(7)));
        assert_eq!(PerformerPolicy::TrackId(7).to_string(), "id:7");
        assert!("biggest".parse::<PerformerPolicy>().unwrap_err().contains("expected largest, central or id:<track id>"));
    }

    #[test]
    fn largest_keeps_the_performer_when_a_bigger_person_walks_past() {
        let mut tr = Tracker::new(PerformerPolicy::Largest, 1.0);
        let mut t = 0.0;
        for _ in 0..30 {
            tr.update(vec![person(300.0, 400.0, 200.0)], t, 1280, 720);
            t += 1.0 / 30.0;
        }
        let performer = tr.performer().unwrap();
        // A much bigger passer-by crosses from the right, overlapping the performer on the way.
        for f in 0..60 {
            let x = 1200.0 - 15.0 * f as f32;
            let out = tr.update(vec![person(300.0, 400.0, 200.0), person(x, 700.0, 600.0)], t, 1280, 720);
            assert_eq!(tr.performer(), Some(performer), "frame {f}: performer stolen");
            assert_eq!(out[0].id, performer, "performer listed first");
            t += 1.0 / 30.0;
        }
    }

    #[test]
    fn largest_picks_the_bigger_of_two_at_the_start() {
        let mut tr = Tracker::new(PerformerPolicy::Largest, 1.0);
        let out = tr.update(vec![person(300.0, 400.0, 100.0), person(900.0, 600.0, 300.0)], 0.0, 1280, 720);
        assert_eq!(tr.performer(), Some(out[0].id));
        assert!((out[0].bbox[3] - out[0].bbox[1] - 300.0).abs() < 1e-3);
    }

    #[test]
    fn most_central_and_fixed_id() {
        let people = || vec![person(100.0, 500.0, 300.0), person(640.0, 500.0, 150.0)];
        let mut central = Tracker::new(PerformerPolicy::MostCentral, 1.0);
        let out = central.update(people(), 0.0, 1280, 720);
        assert!((out[0].bbox[0] + out[0].bbox[2]) / 2.0 > 600.0, "the central person is the performer");

        let mut fixed = Tracker::new(PerformerPolicy::TrackId(2), 1.0);
        fixed.update(people(), 0.0, 1280, 720);
        assert_eq!(fixed.performer(), Some(2));
        let mut absent = Tracker::new(PerformerPolicy::TrackId(9), 1.0);
        absent.update(people(), 0.0, 1280, 720);
        assert_eq!(absent.performer(), None, "no performer while that track does not exist");
    }

    #[test]
    fn ids_survive_a_short_dropout_and_expire_after_the_timeout() {
        let mut tr = Tracker::new(PerformerPolicy::Largest, 0.5);
        let a = ids(&tr.update(vec![person(300.0, 400.0, 200.0)], 0.0, 1280, 720));
        tr.update(vec![], 0.2, 1280, 720);
        let b = ids(&tr.update(vec![person(305.0, 400.0, 200.0)], 0.4, 1280, 720));
        assert_eq!(a, b, "a 0.4 s dropout keeps the id");
        // The performer is held PERFORMER_HOLD x 0.5 s = 1.25 s; far away after 3 s it is a new track.
        tr.update(vec![], 1.0, 1280, 720);
        let c = ids(&tr.update(vec![person(1100.0, 400.0, 200.0)], 3.5, 1280, 720));
        assert_ne!(a, c);
    }
}
