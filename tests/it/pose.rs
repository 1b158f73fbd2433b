//! Pose estimation on the real demo video (see `support::demo`): performer tracking through a
//! passer-by with every model, clear load errors.

use std::path::PathBuf;

use crate::support::demo::{demo_poses, estimate_demo, DemoRun};
use crate::support::error_text;
use mocapd::onnxrt::OrtError;
use mocapd::pose::{ModelKind, PerformerPolicy, PoseError, PoseEstimator, PoseSettings};

/// Where the man is while fully in view: (frames, region [x0, y0, x1, y1] containing his box centre).
const IN_VIEW: [(std::ops::RangeInclusive<u64>, [f32; 4]); 2] =
    [(0..=120, [400.0, 0.0, 900.0, 480.0]), (195..=225, [950.0, 450.0, 1650.0, 940.0])];

fn centre(b: &[f32; 4]) -> [f32; 2] {
    [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0]
}

/// Checks a pass over the demo clip made with `settings`.
fn check_performer(r: &DemoRun, settings: &PoseSettings) {
    let kind = settings.model_kind;
    // No NaN anywhere, confidences in [0, 1].
    for f in &r.frames {
        for p in &f.people {
            assert!(p.score.is_finite() && p.bbox.iter().all(|v| v.is_finite()), "{kind} frame {}: non-finite person", f.frame);
            for k in &p.keypoints {
                assert!(k.x.is_finite() && k.y.is_finite() && (0.0..=1.0).contains(&k.c), "{kind} frame {}: bad keypoint {k:?}", f.frame);
            }
        }
    }
    // The performer is the man on the box from the start, and keeps one id the whole video.
    let id = r.performer[0].expect("a performer on frame 0");
    for (i, p) in r.performer.iter().enumerate() {
        assert!(p.is_none() || *p == Some(id), "{kind}: performer changed from {id} to {p:?} at frame {i}");
    }
    let mut seen = 0;
    let mut in_view = 0;
    let mut missed = Vec::new();
    let mut last: Option<(u64, [f32; 2])> = None;
    for f in &r.frames {
        let perf = f.people.first().filter(|p| p.id == id);
        if let Some(p) = perf {
            // Confident keypoints inside the box (margin 10 % of its size).
            let (mx, my) = ((p.bbox[2] - p.bbox[0]) * 0.1 + 4.0, (p.bbox[3] - p.bbox[1]) * 0.1 + 4.0);
            for k in p.keypoints.iter().filter(|k| k.c >= settings.min_confidence) {
                let inside = k.x >= p.bbox[0] - mx && k.x <= p.bbox[2] + mx && k.y >= p.bbox[1] - my && k.y <= p.bbox[3] + my;
                assert!(inside, "{kind} frame {}: keypoint {k:?} outside box {:?}", f.frame, p.bbox);
            }
            // Continuous box centre: no jump to the woman (at most 60 px per frame while he stands on the box).
            let c = centre(&p.bbox);
            if let Some((lf, lc)) = last.filter(|(lf, _)| *lf >= 5 && f.frame <= 120 && f.frame - lf <= 5) {
                let d = (c[0] - lc[0]).hypot(c[1] - lc[1]);
                assert!(
                    d <= 60.0 * (f.frame - lf) as f32,
                    "{kind}: performer box jumped {d:.0} px at frame {} (from {lc:?} to {c:?})",
                    f.frame
                );
            }
            last = Some((f.frame, c));
        }
        for (range, reg) in &IN_VIEW {
            if range.contains(&f.frame) {
                in_view += 1;
                match perf.map(|p| centre(&p.bbox)) {
                    Some(c) if c[0] >= reg[0] && c[0] <= reg[2] && c[1] >= reg[1] && c[1] <= reg[3] => seen += 1,
                    // Single-person models start on the full frame; give the crop a few frames to lock on.
                    Some(c) => assert!(
                        f.frame < 5,
                        "{kind} frame {}: performer centre {c:?} is not where the man is ({reg:?}): identity switch",
                        f.frame
                    ),
                    None => missed.push(f.frame),
                }
            }
        }
    }
    let ratio = seen as f32 / in_view as f32;
    eprintln!("{kind}: performer id {id} tracked in {seen}/{in_view} in-view frames ({:.1} %); missed {missed:?}", ratio * 100.0);
    assert!(ratio >= 0.95, "{kind}: performer tracked in only {seen}/{in_view} frames where he is fully in view");
}

/// Lightning is the default model: the demo's shared poses are its pass.
#[test]
fn lightning_tracks_the_performer() {
    let shared = demo_poses();
    assert_eq!(shared.settings, PoseSettings::new(ModelKind::Lightning));
    check_performer(&shared.run, &shared.settings);
}

#[test]
fn thunder_tracks_the_performer() {
    let settings = PoseSettings::new(ModelKind::Thunder);
    check_performer(&estimate_demo(&settings), &settings);
}

#[test]
fn multipose_tracks_the_performer_and_the_passer_by() {
    let settings = PoseSettings { multipose_size: 512, policy: PerformerPolicy::Largest, ..PoseSettings::new(ModelKind::Multipose) };
    check_performer(&estimate_demo(&settings), &settings);
}

fn err(settings: PoseSettings) -> String {
    error_text(PoseEstimator::new(&settings), format_args!("{settings:?}"))
}

#[test]
fn missing_model_file_is_a_clear_error() {
    let s = PoseSettings { model_path: Some(PathBuf::from("models/nope.onnx")), ..PoseSettings::new(ModelKind::Thunder) };
    let msg = err(s);
    assert!(msg.contains("model file 'models/nope.onnx' not found"), "{msg}");
    assert!(msg.contains("tools/setup.sh"), "{msg}");
}

#[test]
fn wrong_model_is_a_clear_error() {
    let s = PoseSettings { model_path: Some(PathBuf::from("models/movenet-lightning.onnx")), ..PoseSettings::new(ModelKind::Thunder) };
    let msg = err(s);
    let want = "model 'movenet-lightning.onnx' has input [1,192,192,3] but thunder expects [1,256,256,3]: set pose.model = \"lightning\" \
                (`keypoints`: --model lightning) or point pose.model_path at the right file";
    assert_eq!(msg, want);
    let s = PoseSettings { model_path: Some(PathBuf::from("models/movenet-multipose.onnx")), ..PoseSettings::new(ModelKind::Lightning) };
    let msg = err(s);
    assert!(msg.contains("but lightning expects") && msg.contains("--model multipose"), "{msg}");
}

#[test]
fn missing_onnxruntime_is_a_clear_error() {
    let s = PoseSettings { onnxruntime: Some(PathBuf::from("/nonexistent/libonnxruntime.so")), ..PoseSettings::new(ModelKind::Lightning) };
    let msg = err(s);
    assert!(matches!(
        PoseEstimator::new(&PoseSettings { onnxruntime: Some("/nonexistent".into()), ..Default::default() }),
        Err(PoseError::Runtime(OrtError::NotFound { .. }))
    ));
    assert_eq!(
        msg,
        "ONNX Runtime library not found (looked in: /nonexistent/libonnxruntime.so): run tools/setup.sh, or set ORT_DYLIB_PATH / pose.onnxruntime in the config"
    );
}
