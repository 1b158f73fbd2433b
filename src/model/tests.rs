//! Model-level tests: shapes (small preset, B=2, S=150; tiny), positional embedding breaks
//! frame-permutation equivariance, guided batching.
use candle_core::{DType, Device, Result, Tensor};
use candle_nn::{VarBuilder, VarMap};

use super::{Denoiser, FilmVariant, ModelConfig};

fn build(cfg: &ModelConfig) -> Result<(VarMap, Denoiser)> {
    let vm = VarMap::new();
    let m = Denoiser::new(cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu))?;
    Ok((vm, m))
}

fn max_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
    (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
}

#[test]
fn small_model_shapes_v1_v2() -> Result<()> {
    let dev = Device::Cpu;
    for film in [FilmVariant::V1, FilmVariant::V2] {
        let cfg = ModelConfig { film, ..ModelConfig::small() };
        let (_vm, m) = build(&cfg)?;
        let pose = Tensor::rand(0f32, 1., (2, 150, 17, 3), &dev)?;
        let cond = m.encode(&pose, false)?;
        assert_eq!(cond.tokens.dims(), &[2, 150, 128]);
        assert_eq!(cond.pooled.dims(), &[2, 128]);
        assert_eq!(cond.blocks.len(), 3);
        assert_eq!(cond.blocks[0].kv.k_t.dims(), &[2, 4, 32, 150]);
        let x = Tensor::randn(0f32, 1., (2, 150, 151), &dev)?;
        let y = m.forward(&x, &Tensor::new(&[10u32, 900], &dev)?, &cond)?;
        assert_eq!(y.dims(), &[2, 150, 151]);
        let y2 = m.forward(&x, &Tensor::full(3f32, (2, 150), &dev)?, &m.encode(&pose, true)?)?;
        assert_eq!(y2.dims(), &[2, 150, 151]);
    }
    Ok(())
}

#[test]
fn positional_embedding_breaks_permutation_equivariance() -> Result<()> {
    let dev = Device::Cpu;
    let (_vm, m) = build(&ModelConfig::tiny(16))?;
    let pose = Tensor::rand(0f32, 1., (1, 16, 17, 3), &dev)?;
    let cond = m.encode(&pose, false)?;
    let x = Tensor::randn(0f32, 1., (1, 16, 151), &dev)?;
    let t = Tensor::new(&[100u32], &dev)?;
    let rev: Vec<u32> = (0..16u32).rev().collect();
    let idx = Tensor::new(rev.as_slice(), &dev)?;
    // Reverse the motion frames: without positional information self-attention would commute
    // with the permutation; with it the reversed output differs.
    let y = m.forward(&x, &t, &cond)?;
    let y_rev = m.forward(&x.index_select(&idx, 1)?, &t, &cond)?.index_select(&idx, 1)?;
    assert!(max_diff(&y, &y_rev)? > 1e-4);
    // deterministic
    assert_eq!(max_diff(&y, &m.forward(&x, &t, &cond)?)?, 0.0);
    Ok(())
}

#[test]
fn guided_batch_matches_separate_passes() -> Result<()> {
    let dev = Device::Cpu;
    let (_vm, m) = build(&ModelConfig::tiny(16))?;
    let pose = Tensor::rand(0f32, 1., (2, 16, 17, 3), &dev)?;
    let pair = m.encode_guided(&pose)?;
    let x = Tensor::randn(0f32, 1., (2, 16, 151), &dev)?;
    let t = Tensor::new(&[5u32, 700], &dev)?;
    let y2 = m.forward(&Tensor::cat(&[&x, &x], 0)?, &Tensor::cat(&[&t, &t], 0)?, &pair)?;
    let yc = m.forward(&x, &t, &m.encode(&pose, false)?)?;
    let yu = m.forward(&x, &t, &m.encode(&pose, true)?)?;
    assert!(max_diff(&y2.narrow(0, 0, 2)?, &yc)? < 1e-5);
    assert!(max_diff(&y2.narrow(0, 2, 2)?, &yu)? < 1e-5);
    assert!(max_diff(&yc, &yu)? > 1e-5);
    // per-clip t [B] ≡ the same t broadcast per frame [B, S]
    let t_full = t.reshape((2, 1))?.broadcast_as((2, 16))?.contiguous()?;
    let yf = m.forward(&x, &t_full, &m.encode(&pose, false)?)?;
    assert!(max_diff(&yf, &yc)? < 1e-5);
    assert!(
        max_diff(
            &m.forward(&x, &Tensor::new(5f32, &dev)?, &m.encode(&pose, false)?)?,
            &m.forward(&x, &Tensor::full(5u32, (2, 16), &dev)?, &m.encode(&pose, false)?)?
        )? < 1e-5
    );
    Ok(())
}
