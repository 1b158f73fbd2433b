//! Criterion benchmarks for per-frame pose inference (preprocess + infer + postprocess) on a real demo frame.

use criterion::Criterion;
use mocapd::onnxrt::environment;
use mocapd::pose::crop::determine_crop_region;
use mocapd::pose::movenet::SinglePose;
use mocapd::pose::multipose::{multipose_input_size, MultiPose};
use mocapd::pose::runtime::ModelSession;
use mocapd::pose::ModelKind;
use opencv::{prelude::*, videoio};

fn demo_frame(index: usize) -> Option<Mat> {
    let mut cap = videoio::VideoCapture::from_file_def("assets/demo.mp4").ok()?;
    let mut f = Mat::default();
    for _ in 0..=index {
        if !cap.read(&mut f).ok()? {
            return None;
        }
    }
    Some(f)
}

pub fn benches(c: &mut Criterion) {
    let (Some(frame), Ok(env)) = (demo_frame(60), environment(None)) else {
        eprintln!("pose benches skipped: assets/demo.mp4 or ONNX Runtime missing (run tools/setup.sh)");
        return;
    };
    let threads: usize = std::env::var("POSE_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let (w, h) = (frame.cols() as u32, frame.rows() as u32);
    for kind in [ModelKind::Lightning, ModelKind::Thunder] {
        let Ok(session) = ModelSession::load(&env, kind, &kind.default_model_path(), threads, (0, 0)) else { continue };
        let Ok(mut model) = SinglePose::new(session) else { continue };
        // The crop that follows the performer: from a first full-frame pass, then a tracked pass.
        let mut crop = determine_crop_region(None, w, h);
        for _ in 0..2 {
            if let Ok(k) = model.run(&frame, &crop) {
                crop = determine_crop_region(Some(&k), w, h);
            }
        }
        c.bench_function(&format!("pose/{kind}/frame_t{threads}"), |b| b.iter(|| model.run(&frame, &crop).map(|k| k[0].c)));
    }
    for size in [256u32, 384] {
        let kind = ModelKind::Multipose;
        let hw = multipose_input_size(w, h, size);
        let Ok(session) = ModelSession::load(&env, kind, &kind.default_model_path(), threads, (hw.1, hw.0)) else { continue };
        let mut model = MultiPose::new(session, size, 0.2);
        c.bench_function(&format!("pose/multipose{size}/frame_t{threads}"), |b| b.iter(|| model.run(&frame).map(|p| p.len())));
    }
}
