//! Criterion benchmark of the capture front end: decode + crop + pose + track over the demo video.

use criterion::{Criterion, Throughput};
use mocapd::pose::{ModelKind, PoseEstimator, PoseSettings};
use mocapd::source::{self, Pacing, SourceOptions, SourceSpec};
use std::time::{Duration, Instant};

/// Frames of the demo video per iteration (the whole clip).
const FRAMES: u64 = 230;

pub fn benches(c: &mut Criterion) {
    let settings = PoseSettings::new(ModelKind::Lightning);
    let mut estimator = match PoseEstimator::new(&settings) {
        Ok(e) => e,
        Err(e) => panic!("pipeline bench needs the pose model: {e}"),
    };
    let spec = SourceSpec::File("assets/demo.mp4".into());
    let options = SourceOptions { pacing: Pacing::Fast, ..SourceOptions::default() };
    let mut group = c.benchmark_group("frontend");
    group.sample_size(10).measurement_time(Duration::from_secs(30)).throughput(Throughput::Elements(FRAMES));
    group.bench_function("decode_track_pose_lightning_demo", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                estimator.reset();
                let src = source::open(&spec, &options).expect("open demo video");
                let start = Instant::now();
                while let Some(frame) = src.recv() {
                    let pose = estimator.estimate(&frame.image, frame.seq, frame.t).expect("pose");
                    std::hint::black_box(pose);
                }
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}
