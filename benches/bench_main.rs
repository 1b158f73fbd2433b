//! Criterion benchmarks: `cargo bench --bench bench_main` (numbers recorded in the README).
//! Candle runs single-threaded, as in the daemon: `RAYON_NUM_THREADS=1` is set before anything runs.
mod denoiser;
mod pipeline;
mod pose;

fn main() {
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let mut c = criterion::Criterion::default().configure_from_args();
    pose::benches(&mut c);
    pipeline::benches(&mut c);
    denoiser::benches(&mut c);
    c.final_summary();
}
