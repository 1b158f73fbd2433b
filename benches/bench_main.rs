//! Criterion benchmarks: `cargo bench --bench bench_main` (numbers recorded in the README).
mod pipeline;
mod pose;

criterion::criterion_group!(benches, pose::benches, pipeline::benches);
criterion::criterion_main!(benches);
