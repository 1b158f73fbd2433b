//! Training driver until `mocapd train` is wired: `cargo run --release --example train --
//! [--config config/train.toml] [--resume]`. Prints the [`mocapd::train::TrainReport`] as JSON.
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut config = PathBuf::from("config/train.toml");
    let mut resume = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--config" => config = args.next().map(PathBuf::from).ok_or_else(|| anyhow::anyhow!("--config needs a path"))?,
            "--resume" => resume = true,
            other => anyhow::bail!("unknown argument {other}; usage: train [--config FILE] [--resume]"),
        }
    }
    let cfg = mocapd::train::TrainConfig::load(&config)?;
    let report = mocapd::train::train(&cfg, resume)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
