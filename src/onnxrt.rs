//! The ONNX Runtime library, found and loaded once per process and shared by every `ort` user:
//! the pose stage (MoveNet, [`crate::pose`]) and the denoiser's ONNX engine ([`crate::model::onnx`]).
//!
//! Where the library is looked for, in order: the configured path (`pose.onnxruntime`; when
//! given, only it), else `ORT_DYLIB_PATH` (when set, only it: a wrong value is an error, never
//! silently replaced), else `.local/onnxruntime/libonnxruntime.so` under the current directory,
//! else under the executable's directory and ancestors (`target/release/mocapd` -> the project
//! root), else under an install prefix's `share/mocapd/` ([`crate::assets`]). A directory stands
//! for the library inside it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Library file name inside `.local/onnxruntime/` (or any directory given as the library).
pub const LIB_NAME: &str = "libonnxruntime.so";

/// The environment variable that names the library when the config does not.
pub const ENV_VAR: &str = "ORT_DYLIB_PATH";

/// Why ONNX Runtime is not available.
#[derive(Debug, thiserror::Error)]
pub enum OrtError {
    #[error(
        "ONNX Runtime library not found (looked in: {looked}): run tools/setup.sh, or set ORT_DYLIB_PATH / pose.onnxruntime in the config"
    )]
    NotFound { looked: String },

    /// `ORT_DYLIB_PATH` is set but names neither the library nor a directory holding it.
    #[error(
        "ORT_DYLIB_PATH is set to '{path}', which is neither the ONNX Runtime library nor a directory holding libonnxruntime.so: point it at the library, or unset it to use .local/onnxruntime (installed by tools/setup.sh)"
    )]
    EnvPath { path: PathBuf },

    #[error("failed to load ONNX Runtime from '{path}': {message} (run tools/setup.sh to install ONNX Runtime 1.31)")]
    Load { path: PathBuf, message: String },
}

/// The process-wide ONNX Runtime environment and the library it was loaded from.
static ENV: Mutex<Option<(ort::environment::Environment, PathBuf)>> = Mutex::new(None);

/// `c` itself when it is a file, the library inside it when it is a directory holding one.
fn library_at(c: &Path) -> Option<PathBuf> {
    let file = if c.is_dir() { c.join(LIB_NAME) } else { c.to_path_buf() };
    file.is_file().then_some(file)
}

/// Finds the ONNX Runtime library (see the module documentation for the order): `explicit`
/// is the configured path (`pose.onnxruntime`), `None` when the config names none.
pub fn find_library(explicit: Option<&Path>) -> Result<PathBuf, OrtError> {
    let env_path = std::env::var_os(ENV_VAR).filter(|p| !p.is_empty()).map(PathBuf::from);
    find_in(explicit, env_path.as_deref())
}

/// [`find_library`] with the value of `ORT_DYLIB_PATH` given (`None`: unset or empty).
fn find_in(explicit: Option<&Path>, env_path: Option<&Path>) -> Result<PathBuf, OrtError> {
    let candidates: Vec<PathBuf> = match (explicit, env_path) {
        (Some(p), _) => vec![p.to_path_buf()],
        (None, Some(p)) => return library_at(p).ok_or_else(|| OrtError::EnvPath { path: p.to_path_buf() }),
        // Under the working directory, then beside the executable and its ancestors
        // (target/release/mocapd -> the project root), then PREFIX/share/mocapd/.
        (None, None) => crate::assets::candidates(&Path::new(".local/onnxruntime").join(LIB_NAME)),
    };
    if let Some(lib) = candidates.iter().find_map(|c| library_at(c)) {
        return Ok(lib);
    }
    let looked: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
    Err(OrtError::NotFound { looked: looked.join(", ") })
}

/// The process-wide environment, loading the library on first use. Later calls reuse the library
/// loaded first (ONNX Runtime allows one per process) but still check that a given path exists.
pub fn environment(explicit: Option<&Path>) -> Result<ort::environment::Environment, OrtError> {
    let lib = find_library(explicit)?;
    let mut guard = ENV.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((env, loaded)) = guard.as_ref() {
        if loaded != &lib {
            tracing::debug!(requested = %lib.display(), loaded = %loaded.display(), "ONNX Runtime already loaded; reusing it");
        }
        return Ok(env.clone());
    }
    let load_err = |e: &dyn std::fmt::Display| OrtError::Load { path: lib.clone(), message: e.to_string() };
    let builder = ort::init_from(&lib).map_err(|e| load_err(&e))?;
    let env = builder.with_name("mocapd").build().map_err(|e| load_err(&e))?;
    tracing::info!(path = %lib.display(), "loaded ONNX Runtime");
    *guard = Some((env.clone(), lib));
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_path_is_the_only_candidate() {
        let e = find_in(Some(Path::new("/nonexistent/lib.so")), Some(Path::new("/also/missing"))).unwrap_err();
        assert!(matches!(&e, OrtError::NotFound { looked } if looked == "/nonexistent/lib.so"), "{e}");
        assert!(e.to_string().contains("tools/setup.sh"), "{e}");
    }

    #[test]
    fn a_wrong_env_path_is_an_error_naming_the_variable() {
        let e = find_in(None, Some(Path::new("/nonexistent/onnxruntime"))).unwrap_err();
        assert!(matches!(&e, OrtError::EnvPath { .. }), "{e}");
        let msg = e.to_string();
        assert!(msg.contains("ORT_DYLIB_PATH") && msg.contains("/nonexistent/onnxruntime"), "{msg}");
    }

    #[test]
    fn a_directory_stands_for_the_library_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(find_in(None, Some(dir.path())), Err(OrtError::EnvPath { .. })));
        let lib = dir.path().join(LIB_NAME);
        std::fs::write(&lib, b"").unwrap();
        assert_eq!(find_in(None, Some(dir.path())).unwrap(), lib);
        assert_eq!(find_in(Some(&lib), None).unwrap(), lib);
    }
}
