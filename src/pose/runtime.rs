//! Everything `ort`: find and load the ONNX Runtime library once, build MoveNet sessions, check their I/O, run them.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::session::{builder::GraphOptimizationLevel, Session};
use ort::value::{TensorElementType, TensorRef, ValueType};

use super::error::PoseError;
use super::settings::ModelKind;

/// Library file name inside `.local/onnxruntime/`.
pub const ORT_LIB_NAME: &str = "libonnxruntime.so";

/// The process-wide ONNX Runtime environment and the library it was loaded from.
static ENV: Mutex<Option<(ort::environment::Environment, PathBuf)>> = Mutex::new(None);

/// Finds the ONNX Runtime library: `explicit` (only it, when given), else `ORT_DYLIB_PATH`, else
/// `.local/onnxruntime/libonnxruntime.so` under the current directory, else under the executable's ancestors
/// (`target/release/mocapd` -> the project root). A directory stands for the library inside it.
pub fn find_onnxruntime(explicit: Option<&Path>) -> Result<PathBuf, PoseError> {
    let local = Path::new(".local/onnxruntime").join(ORT_LIB_NAME);
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = explicit {
        candidates.push(p.to_path_buf());
    } else {
        if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
            candidates.push(PathBuf::from(p));
        }
        candidates.push(local.clone());
        if let Ok(exe) = std::env::current_exe() {
            // target/release/mocapd -> ../..; target/debug/deps/test-binary -> ../../..
            for dir in exe.ancestors().skip(2).take(2) {
                candidates.push(dir.join(&local));
            }
        }
    }
    for c in &candidates {
        let file = if c.is_dir() { c.join(ORT_LIB_NAME) } else { c.clone() };
        if file.is_file() {
            return Ok(file);
        }
    }
    let looked: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
    Err(PoseError::RuntimeNotFound { looked: looked.join(", ") })
}

/// The process-wide environment, loading the library on first use. Later calls reuse the library
/// loaded first (ONNX Runtime allows one per process) but still check that a given path exists.
pub fn environment(explicit: Option<&Path>) -> Result<ort::environment::Environment, PoseError> {
    let lib = find_onnxruntime(explicit)?;
    let mut guard = ENV.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((env, loaded)) = guard.as_ref() {
        if loaded != &lib {
            tracing::debug!(requested = %lib.display(), loaded = %loaded.display(), "ONNX Runtime already loaded; reusing it");
        }
        return Ok(env.clone());
    }
    let load_err = |e: &dyn std::fmt::Display| PoseError::RuntimeLoad { path: lib.clone(), message: e.to_string() };
    let builder = ort::init_from(&lib).map_err(|e| load_err(&e))?;
    let env = builder.with_name("mocapd").build().map_err(|e| load_err(&e))?;
    tracing::info!(path = %lib.display(), "loaded ONNX Runtime");
    *guard = Some((env.clone(), lib));
    Ok(env)
}

/// A loaded MoveNet model whose inputs and outputs have been checked against its kind.
pub struct ModelSession {
    session: Session,
    kind: ModelKind,
    input_name: String,
    output_name: String,
    path: PathBuf,
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

fn fmt_shape(dims: &[i64]) -> String {
    let d: Vec<String> = dims.iter().map(|&d| if d < 0 { "?".to_string() } else { d.to_string() }).collect();
    format!("[{}]", d.join(","))
}

fn tensor_info(v: &ValueType) -> Option<(TensorElementType, Vec<i64>)> {
    match v {
        ValueType::Tensor { ty, shape, .. } => Some((*ty, shape.to_vec())),
        _ => None,
    }
}

/// Which model kind these shapes look like, for the "pass --model X" hint.
fn guess_kind(input: &[i64], output: &[i64]) -> String {
    match (input, output) {
        (_, [_, _, 56]) => "multipose".into(),
        ([_, 192, 192, 3], [.., 17, 3]) => "lightning".into(),
        ([_, 256, 256, 3], [.., 17, 3]) => "thunder".into(),
        _ => "lightning|thunder|multipose".into(),
    }
}

fn dims_match(found: &[i64], expected: &[i64]) -> bool {
    found.len() == expected.len() && found.iter().zip(expected).all(|(&f, &e)| f == e || f < 0 || e < 0)
}

impl ModelSession {
    /// Loads `path` as a model of `kind` with `threads` intra-op threads (inter-op 1), checks its I/O
    /// and runs it once on a blank input (`warmup_hw` for multipose) so the first real frame is not slow.
    pub fn load(
        env: &ort::environment::Environment,
        kind: ModelKind,
        path: &Path,
        threads: usize,
        warmup_hw: (u32, u32),
    ) -> Result<Self, PoseError> {
        if !path.is_file() {
            return Err(PoseError::ModelNotFound { path: path.to_path_buf() });
        }
        let load_err = |e: &dyn std::fmt::Display| PoseError::ModelLoad { path: path.to_path_buf(), message: e.to_string() };
        let session = Session::builder(env)
            .and_then(|b| b.with_optimization_level(GraphOptimizationLevel::Level3).map_err(Into::into))
            .and_then(|b| b.with_intra_threads(threads.max(1)).map_err(Into::into))
            .and_then(|b| b.with_inter_threads(1).map_err(Into::into))
            .and_then(|mut b| b.commit_from_file(path))
            .map_err(|e| load_err(&e))?;
        let mut me = Self::check(session, kind, path)?;
        let (h, w) = match kind.input_size() {
            Some(s) => (s, s),
            None => warmup_hw,
        };
        let blank = vec![0i32; (h * w * 3) as usize];
        let mut out = Vec::new();
        me.run(&blank, h, w, &mut out)?;
        Ok(me)
    }

    fn check(session: Session, kind: ModelKind, path: &Path) -> Result<Self, PoseError> {
        let file = file_name(path);
        let (Some(input), Some(output)) = (session.inputs().first(), session.outputs().first()) else {
            return Err(PoseError::ModelLoad { path: path.to_path_buf(), message: "model has no inputs or no outputs".into() });
        };
        let (in_ty, in_shape) = tensor_info(input.dtype()).unwrap_or((TensorElementType::Float32, vec![]));
        let (out_ty, out_shape) = tensor_info(output.dtype()).unwrap_or((TensorElementType::Int32, vec![]));
        let (exp_in, exp_out): (Vec<i64>, Vec<i64>) = match kind.input_size() {
            Some(s) => (vec![1, s as i64, s as i64, 3], vec![1, 1, 17, 3]),
            None => (vec![1, -1, -1, 3], vec![1, 6, 56]),
        };
        let mismatch = |found: String, expected: String| PoseError::ModelMismatch {
            file: file.clone(),
            found,
            kind: kind.name(),
            expected,
            suggest: guess_kind(&in_shape, &out_shape),
        };
        let one_int_input = session.inputs().len() == 1 && in_ty == TensorElementType::Int32;
        if !one_int_input {
            let found = format!("{} input(s), the first {:?} {}", session.inputs().len(), in_ty, fmt_shape(&in_shape));
            return Err(mismatch(found, format!("one int32 input {}", fmt_shape(&exp_in))));
        }
        if !dims_match(&in_shape, &exp_in) {
            return Err(mismatch(format!("input {}", fmt_shape(&in_shape)), fmt_shape(&exp_in)));
        }
        if out_ty != TensorElementType::Float32 || !dims_match(&out_shape, &exp_out) {
            return Err(mismatch(
                format!("output {:?} {}", out_ty, fmt_shape(&out_shape)),
                format!("float32 output {}", fmt_shape(&exp_out)),
            ));
        }
        Ok(ModelSession {
            kind,
            input_name: input.name().to_string(),
            output_name: output.name().to_string(),
            path: path.to_path_buf(),
            session,
        })
    }

    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs the model on an NHWC int32 RGB image of `h` x `w`; the flat float output goes into `out`.
    pub fn run(&mut self, input: &[i32], h: u32, w: u32, out: &mut Vec<f32>) -> Result<(), PoseError> {
        let shape = [1usize, h as usize, w as usize, 3];
        let tensor = TensorRef::from_array_view((shape, input)).map_err(|e| PoseError::inference("infer", e))?;
        let outputs = self.session.run(ort::inputs![self.input_name.as_str() => tensor]).map_err(|e| PoseError::inference("infer", e))?;
        let value = outputs
            .get(self.output_name.as_str())
            .ok_or_else(|| PoseError::inference("infer", format!("no output named '{}'", self.output_name)))?;
        let (_, data) = value.try_extract_tensor::<f32>().map_err(|e| PoseError::inference("infer", e))?;
        out.clear();
        out.extend_from_slice(data);
        Ok(())
    }
}
