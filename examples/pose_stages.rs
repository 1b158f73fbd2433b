//! Prints the mean preprocess / infer / postprocess time per model on the demo video.
use mocapd::pose::{ModelKind, PoseEstimator, PoseSettings};
use mocapd::source::{self, Pacing, SourceOptions, SourceSpec};

fn main() {
    for kind in ModelKind::ALL {
        let threads = std::env::var("POSE_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
        let mut est = PoseEstimator::new(&PoseSettings { threads, ..PoseSettings::new(kind) }).expect("model");
        let src = source::open(&SourceSpec::File("assets/demo.mp4".into()), &SourceOptions { pacing: Pacing::Fast, ..Default::default() })
            .expect("video");
        let (mut n, mut pre, mut inf, mut post) = (0u32, 0.0, 0.0, 0.0);
        while let Some(f) = src.recv() {
            est.estimate(&f.image, f.seq, f.t).expect("pose");
            let t = est.stage_times();
            pre += t.preprocess.as_secs_f64();
            inf += t.infer.as_secs_f64();
            post += t.postprocess.as_secs_f64();
            n += 1;
        }
        let ms = |v: f64| 1e3 * v / n as f64;
        println!("{kind:<10} threads {threads}: preprocess {:.2} ms, infer {:.2} ms, postprocess {:.3} ms", ms(pre), ms(inf), ms(post));
    }
}
