//! Criterion benchmarks.
mod pose;

criterion::criterion_group!(benches, pose::benches);
criterion::criterion_main!(benches);
