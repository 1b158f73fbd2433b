//! Versions of the motion contract: where a window's motion is placed and how its 2D condition
//! is scaled. A data set records the version it was built under (its manifest) and a checkpoint
//! the version it was trained under (its metadata, [`METADATA_KEY`]); inference follows the
//! checkpoint's, so a model is always fed what it was trained on.
//!
//! - [`Contract::FirstFrame`] (`first-frame`, version 1; checkpoints without the key): each
//!   window is placed so that its first frame faces +Z with the root over the origin; the 2D
//!   scale is the window's median torso length ([`super::frame2d`]).
//! - [`Contract::GravityView`] (`gravity-view`, version 2, what `mocapd data build` writes now):
//!   each window is expressed in the camera's gravity-view frame (GVHMR's convention): Y up, the
//!   camera's horizontal viewing direction is −Z (the camera stands on +Z), so a body facing the
//!   camera faces +Z whatever the camera's heading in the world and the network never has to
//!   guess a world heading; the origin is the first frame's root over the floor. The 2D scale is
//!   robust to foreshortening: the largest of several per-segment estimates of the torso length
//!   and the bounding box ([`super::frame2d`]). At inference the camera is the input's, so the
//!   stream's output frame *is* the gravity-view frame and windows only shift horizontally.
use std::fmt;
use std::str::FromStr;

/// The checkpoint metadata key (and the data-set manifest field) naming the contract.
pub const METADATA_KEY: &str = "motion_contract";

/// A version of the motion contract (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Contract {
    /// Version 1: first frame faces +Z; median-torso 2D scale.
    #[default]
    FirstFrame,
    /// Version 2: the camera's gravity-view frame; foreshortening-robust 2D scale.
    GravityView,
}

impl Contract {
    /// What `mocapd data build` writes.
    pub const CURRENT: Contract = Contract::GravityView;

    pub fn name(self) -> &'static str {
        match self {
            Contract::FirstFrame => "first-frame",
            Contract::GravityView => "gravity-view",
        }
    }
}

impl fmt::Display for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Contract {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "first-frame" => Ok(Contract::FirstFrame),
            "gravity-view" => Ok(Contract::GravityView),
            other => Err(format!("unknown motion contract '{other}' (this build knows first-frame, gravity-view)")),
        }
    }
}
