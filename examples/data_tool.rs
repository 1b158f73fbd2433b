//! Drives the data library until the CLI is wired: `cargo run --release --example data_tool --
//! build|preview CLIP OUT|stats [DIR]`.
use mocapd::data::{build, preview, stats};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("build") => {
            let mut o = build::BuildOptions::default();
            if let Some(d) = args.get(1) {
                o.out_dir = d.into();
            }
            println!("{}", build::build(&o)?);
        }
        Some("preview") => {
            let o = preview::PreviewOptions { clip: args[1].clone(), out: args[2].clone().into(), ..Default::default() };
            println!("{}", serde_json::to_string(&preview::preview(&o)?)?);
        }
        Some("stats") => {
            let dir = args.get(1).cloned().unwrap_or("data/train".into());
            println!("{}", stats::stats(dir.as_ref())?);
        }
        _ => eprintln!("usage: data_tool build [OUT] | preview CLIP OUT | stats [DIR]"),
    }
    Ok(())
}
