//! `mocapd run`: the live daemon. Runs the pipeline until the input ends or SIGINT/SIGTERM
//! arrives, then drains it (recordings finalised) and reports.
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::Error;
use crate::config::Settings;
use crate::pipeline::{self, RunReport};

/// A flag set by SIGINT or SIGTERM.
pub fn shutdown_flag() -> Result<Arc<AtomicBool>, Error> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&flag)).map_err(|e| Error::Usage(format!("cannot install signal handler: {e}")))?;
    }
    Ok(flag)
}

pub fn run(input: &str, settings: &Settings) -> Result<RunReport, Error> {
    let stop = shutdown_flag()?;
    Ok(pipeline::run(input, &settings.stages(), stop)?)
}
