//! `mocapd recover TAKE`: after a crash (kill -9, power cut), writes a take's `.vrma` and, when
//! missing or shorter, its BVH from the crash-safe `mocapd.motion/1` file
//! ([`crate::sink::recover`]). BVH units for a new file come from `record.bvh_units`, the
//! `.vrma`'s upperChest from `sink.vmc.upper_chest`, as the recorders take them.
use std::path::Path;

use super::Error;
use crate::config::Settings;
use crate::sink::recover::{recover, RecoverOptions, RecoverReport};

pub fn run(take: &Path, settings: &Settings) -> Result<RecoverReport, Error> {
    let p = &settings.pipeline;
    let o = RecoverOptions { units: p.record.bvh_units, upper_chest: p.vmc.as_ref().is_some_and(|v| v.unity.upper_chest) };
    Ok(recover(take, &o)?)
}
