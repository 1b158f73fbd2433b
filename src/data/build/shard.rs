//! Shard files: windows of one split gathered into `train-NNNNN.safetensors` /
//! `val-NNNNN.safetensors` of at most `size` windows each.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

use super::manifest::{ShardInfo, Split};
use crate::data::error::{io, DataError};
use crate::motion::codec::FEATURE_DIM;
use crate::motion::Frame2d;
use crate::skeleton::coco::NUM_COCO;

pub(super) struct ShardWriter {
    dir: PathBuf,
    split: Split,
    size: usize,
    clip_len: usize,
    motion: Vec<f32>,
    pose: Vec<f32>,
    take: Vec<i64>,
    speed: Vec<f32>,
    mirrored: Vec<u8>,
    pub(super) shards: Vec<ShardInfo>,
    pub(super) bytes: u64,
}

impl ShardWriter {
    pub(super) fn new(dir: &Path, split: Split, size: usize, clip_len: usize) -> Self {
        ShardWriter {
            dir: dir.to_path_buf(),
            split,
            size,
            clip_len,
            motion: Vec::new(),
            pose: Vec::new(),
            take: Vec::new(),
            speed: Vec::new(),
            mirrored: Vec::new(),
            shards: Vec::new(),
            bytes: 0,
        }
    }
    pub(super) fn push(
        &mut self,
        motion: &[[f32; FEATURE_DIM]],
        pose: &[Frame2d],
        take: usize,
        speed: f32,
        mirrored: bool,
    ) -> Result<(), DataError> {
        self.motion.extend(motion.iter().flatten());
        self.pose.extend(pose.iter().flatten().flatten());
        self.take.push(take as i64);
        self.speed.push(speed);
        self.mirrored.push(mirrored as u8);
        if self.take.len() >= self.size {
            self.flush()?;
        }
        Ok(())
    }
    pub(super) fn flush(&mut self) -> Result<(), DataError> {
        let n = self.take.len();
        if n == 0 {
            return Ok(());
        }
        let dev = Device::Cpu;
        let l = self.clip_len;
        let mut map = HashMap::new();
        map.insert("motion", Tensor::from_vec(std::mem::take(&mut self.motion), (n, l, FEATURE_DIM), &dev)?);
        map.insert("pose2d", Tensor::from_vec(std::mem::take(&mut self.pose), (n, l, NUM_COCO, 3), &dev)?);
        map.insert("take", Tensor::from_vec(std::mem::take(&mut self.take), n, &dev)?);
        map.insert("speed", Tensor::from_vec(std::mem::take(&mut self.speed), n, &dev)?);
        map.insert("mirrored", Tensor::from_vec(std::mem::take(&mut self.mirrored), n, &dev)?);
        let file = format!("{}-{:05}.safetensors", self.split.name(), self.shards.len());
        let path = self.dir.join(&file);
        candle_core::safetensors::save(&map, &path)?;
        self.bytes += std::fs::metadata(&path).map_err(io(&path))?.len();
        self.shards.push(ShardInfo { file, split: self.split, samples: n });
        Ok(())
    }
}
