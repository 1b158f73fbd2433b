//! `data preview CLIP --out preview.png`: a take drawn from the front, the side and above
//! (SMPL-24 skeleton after retargeting and canonicalisation; left side blue, right side red),
//! plus what the model sees (noisy COCO-17 through a random virtual camera, normalised), as a
//! strip of evenly spaced frames per view. CLIP is a BVH/DeepMimic file (rig given or detected
//! from joint names), a fetched source name (`cmu`, `boxing`, ...: its first take), a take id
//! (`deepmimic/walk`), or `procedural`.

use std::path::{Path, PathBuf};

use opencv::core::{Mat, Point, Scalar, Vector, CV_8UC3};
use opencv::{imgcodecs, imgproc};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;

use super::cond2d::{self, CameraPath, CameraRanges, DetectorNoise};
use super::error::DataError;
use super::procedural::{self, ProceduralOptions};
use super::rigs;
use super::sources;
use crate::motion::placement::canonicalize;
use crate::motion::{normalize_sequence, Contract, Motion};
use crate::skeleton::coco::COCO_EDGES;
use crate::skeleton::coco::{coco_from_pose, NUM_COCO};
use crate::skeleton::rotation::Vec3;
use crate::skeleton::smpl::{parent, JOINT_NAMES, NUM_JOINTS};

/// What to draw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewOptions {
    /// File path, source name, take id (`source/stem`) or `procedural`.
    pub clip: String,
    /// Rig for a BVH file (detected from joint names when `None`).
    pub rig: Option<String>,
    pub raw_dir: PathBuf,
    pub out: PathBuf,
    /// Frames per strip.
    pub frames: usize,
    /// Cell size in pixels.
    pub cell: i32,
    /// Seed of the virtual camera and noise.
    pub seed: u64,
}

impl Default for PreviewOptions {
    fn default() -> Self {
        PreviewOptions {
            clip: "cmu".into(),
            rig: None,
            raw_dir: PathBuf::from("data/raw"),
            out: PathBuf::from("preview.png"),
            frames: 6,
            cell: 170,
            seed: 1,
        }
    }
}

/// What was drawn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewReport {
    pub take: String,
    pub rig: String,
    pub seconds: f32,
    pub frames_shown: Vec<usize>,
    pub out: PathBuf,
    pub bytes: u64,
}

/// Load the clip a preview (or any tool) names: see [`PreviewOptions::clip`].
pub fn load_clip(clip: &str, rig: Option<&str>, raw: &Path, seed: u64) -> Result<(String, String, Motion), DataError> {
    let rig_map = match rig {
        Some(r) => Some(rigs::rig(r).ok_or_else(|| DataError::BadRigName(r.to_string()))?),
        None => None,
    };
    let path = Path::new(clip);
    if path.is_file() {
        let (m, rig_name) = sources::load_file(path, rig_map, clip)?;
        let rig_name = rig_map.map(|r| r.name).unwrap_or(rig_name);
        return Ok((clip.to_string(), rig_name.to_string(), m));
    }
    if clip == "procedural" {
        let m = procedural::generate(&ProceduralOptions::default(), &mut StdRng::seed_from_u64(seed));
        return Ok(("procedural".into(), "smpl".into(), m));
    }
    let (src, take) = clip.split_once('/').map(|(a, b)| (a, Some(b))).unwrap_or((clip, None));
    let known = || sources::SOURCES.iter().map(|s| s.name).collect::<Vec<_>>().join(", ") + ", procedural";
    let def = sources::source_def(src).ok_or_else(|| DataError::UnknownSource { name: clip.into(), known: known() })?;
    let files = sources::source_files(raw, def);
    let file = files
        .iter()
        .find(|p| {
            let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            take.is_none_or(|t| stem == t || stem.strip_prefix("humanoid3d_") == Some(t))
        })
        .ok_or_else(|| DataError::UnknownSource { name: clip.into(), known: known() })?;
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let id = format!("{}/{}", def.name, stem.strip_prefix("humanoid3d_").unwrap_or(&stem));
    let (m, _) = sources::load_file(file, Some(rig_map.unwrap_or(def.rig)), &id)?;
    Ok((id, rig_map.unwrap_or(def.rig).name.to_string(), m))
}

/// BGR: the body's left blue, right red, the middle green; on a video frame brighter shades.
/// Shared by this preview and `mocapd lift --preview`.
const LEFT: (f64, f64, f64) = (200.0, 90.0, 20.0);
const RIGHT: (f64, f64, f64) = (30.0, 30.0, 210.0);
const MIDDLE: (f64, f64, f64) = (60.0, 140.0, 60.0);
const LEFT_ON_VIDEO: (f64, f64, f64) = (255.0, 150.0, 40.0);
const RIGHT_ON_VIDEO: (f64, f64, f64) = (50.0, 50.0, 255.0);
const MIDDLE_ON_VIDEO: (f64, f64, f64) = (80.0, 220.0, 80.0);

pub(crate) fn bgr(c: (f64, f64, f64)) -> Scalar {
    Scalar::new(c.0, c.1, c.2, 0.0)
}

/// Side of SMPL joint `j`: -1 left, 1 right, 0 the middle.
pub(crate) fn smpl_side(j: usize) -> i8 {
    let name = JOINT_NAMES[j];
    if name.starts_with("left") {
        -1
    } else if name.starts_with("right") {
        1
    } else {
        0
    }
}

/// The colour of a `side` (-1 left, 1 right, else the middle), brighter `on_video`.
pub(crate) fn side_colour(side: i8, on_video: bool) -> Scalar {
    bgr(match (side, on_video) {
        (-1, false) => LEFT,
        (1, false) => RIGHT,
        (_, false) => MIDDLE,
        (-1, true) => LEFT_ON_VIDEO,
        (1, true) => RIGHT_ON_VIDEO,
        (_, true) => MIDDLE_ON_VIDEO,
    })
}

/// A drawing point, rounded and clamped (NaN goes far off-canvas, so nothing is drawn for it).
pub(crate) fn pt(x: f32, y: f32) -> Point {
    let c = |v: f32| if v.is_finite() { v.round().clamp(-10000.0, 10000.0) as i32 } else { -10000 };
    Point::new(c(x), c(y))
}

/// Draw the preview (see the module docs).
pub fn preview(o: &PreviewOptions) -> Result<PreviewReport, DataError> {
    if o.frames == 0 || o.cell < 60 {
        return Err(DataError::BadOptions("preview needs at least one frame and cells of 60 px or more".into()));
    }
    let (take, rig, m) = load_clip(&o.clip, o.rig.as_deref(), &o.raw_dir, o.seed)?;
    let m = canonicalize(&m).map_err(|source| DataError::Motion { take: take.clone(), source })?;
    let n = m.len();
    let shown: Vec<usize> = (0..o.frames).map(|i| if o.frames == 1 { 0 } else { i * (n - 1) / (o.frames - 1) }).collect();
    // 2D: one random camera over the whole take.
    let coco: Vec<[Vec3; NUM_COCO]> = (0..n).map(|f| coco_from_pose(&m.rotations[f], m.root[f])).collect();
    let mut rng = StdRng::seed_from_u64(o.seed);
    let path = CameraPath::random(&CameraRanges { fill: (0.5, 0.8), ..Default::default() }, n as f32 / m.fps, &mut rng);
    let follow = cond2d::follow_path(&m.root, m.fps);
    let kp =
        normalize_sequence(&cond2d::project_clip(&path, &coco, &follow, m.fps, &DetectorNoise::default(), &mut rng), Contract::CURRENT);

    let c = o.cell as f32;
    let title = 26;
    let rows = 4;
    let mut img = Mat::new_rows_cols_with_default(title + rows * o.cell, o.frames as i32 * o.cell, CV_8UC3, Scalar::all(255.0))?;
    let black = Scalar::all(30.0);
    let grey = Scalar::all(200.0);
    let font = imgproc::FONT_HERSHEY_SIMPLEX;
    let head = format!("{take} ({rig}, {:.1} s)  rows: front, side, top, noisy 2D (normalised)  left=blue right=red", m.duration());
    imgproc::put_text(&mut img, &head, Point::new(6, 18), font, 0.45, black, 1, imgproc::LINE_AA, false)?;
    let ppm = 0.42 * c;
    for (col, &f) in shown.iter().enumerate() {
        let x0 = col as f32 * c;
        let pos = m.positions(f).unwrap_or([[0.0; 3]; NUM_JOINTS]);
        let root = m.root[f];
        for row in 0..rows {
            let y0 = title as f32 + row as f32 * c;
            imgproc::rectangle_def(&mut img, opencv::core::Rect::new(x0 as i32, y0 as i32, o.cell, o.cell), grey)?;
            if row == 3 {
                // Normalised 2D: torso ~ 1 unit.
                let s = 0.17 * c;
                let (cx, cy) = (x0 + 0.5 * c, y0 + 0.45 * c);
                let k = &kp[f];
                for &(a, b) in &COCO_EDGES {
                    if k[a][2] > 0.0 && k[b][2] > 0.0 {
                        let col = if a % 2 == 1 && b % 2 == 1 {
                            side_colour(-1, false)
                        } else if a % 2 == 0 && b % 2 == 0 && a > 0 {
                            side_colour(1, false)
                        } else {
                            side_colour(0, false)
                        };
                        imgproc::line(
                            &mut img,
                            pt(cx + s * k[a][0], cy + s * k[a][1]),
                            pt(cx + s * k[b][0], cy + s * k[b][1]),
                            col,
                            2,
                            imgproc::LINE_AA,
                            0,
                        )?;
                    }
                }
                for p in k.iter().filter(|p| p[2] > 0.0) {
                    let shade = 220.0 * (1.0 - p[2] as f64);
                    imgproc::circle(
                        &mut img,
                        pt(cx + s * p[0], cy + s * p[1]),
                        3,
                        Scalar::new(shade, shade, shade, 0.0),
                        -1,
                        imgproc::LINE_AA,
                        0,
                    )?;
                }
            } else {
                // Orthographic views: front (x, y), side from the subject's left (-z, y), top (x, z).
                let proj = |p: Vec3| -> Point {
                    match row {
                        0 => pt(x0 + 0.5 * c + ppm * (p[0] - root[0]), y0 + 0.93 * c - ppm * p[1]),
                        1 => pt(x0 + 0.5 * c - ppm * (p[2] - root[2]), y0 + 0.93 * c - ppm * p[1]),
                        _ => pt(x0 + 0.5 * c + ppm * (p[0] - root[0]), y0 + 0.5 * c + ppm * (p[2] - root[2])),
                    }
                };
                if row < 2 {
                    let fy = y0 as i32 + (0.93 * c) as i32;
                    imgproc::line(
                        &mut img,
                        Point::new(x0 as i32 + 4, fy),
                        Point::new((x0 + c) as i32 - 4, fy),
                        grey,
                        1,
                        imgproc::LINE_8,
                        0,
                    )?;
                }
                for j in 1..NUM_JOINTS {
                    if let Some(p) = parent(j) {
                        imgproc::line(&mut img, proj(pos[p]), proj(pos[j]), side_colour(smpl_side(j), false), 2, imgproc::LINE_AA, 0)?;
                    }
                }
                imgproc::circle(&mut img, proj(pos[15]), 4, side_colour(0, false), -1, imgproc::LINE_AA, 0)?;
            }
            let label = match row {
                0 => format!("front  f{f}"),
                1 => "side".to_string(),
                2 => "top".to_string(),
                _ => "2D".to_string(),
            };
            if row == 0 || col == 0 {
                imgproc::put_text(
                    &mut img,
                    &label,
                    Point::new(x0 as i32 + 4, y0 as i32 + 14),
                    font,
                    0.4,
                    black,
                    1,
                    imgproc::LINE_AA,
                    false,
                )?;
            }
        }
    }
    if let Some(dir) = o.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(super::error::io(dir))?;
    }
    let params = Vector::<i32>::from_slice(&[imgcodecs::IMWRITE_PNG_COMPRESSION, 9]);
    if !imgcodecs::imwrite(&o.out, &img, &params)? {
        return Err(DataError::Io { path: o.out.clone(), source: std::io::Error::other("imwrite failed") });
    }
    let bytes = std::fs::metadata(&o.out).map_err(super::error::io(&o.out))?.len();
    Ok(PreviewReport { take, rig, seconds: m.duration(), frames_shown: shown, out: o.out.clone(), bytes })
}
