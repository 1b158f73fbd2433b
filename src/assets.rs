//! Where the bundled files are found (the MoveNet models, the denoiser checkpoint, ONNX Runtime)
//! when their path is the built-in default, a path relative to the repository root such as
//! `models/movenet-lightning.onnx`. In order: under the working directory; then under the
//! directory of the executable and its ancestors (`target/release/mocapd` → the repository
//! root, so the binary works from anywhere in a checkout); then an install prefix
//! (`PREFIX/bin/mocapd` → `PREFIX/share/mocapd/`). Paths a user configures are taken as given.

use std::path::{Path, PathBuf};

/// How many of the executable's ancestors are searched (its own directory first).
const EXE_ANCESTORS: usize = 4;

/// Where a default `relative` path is looked for, in order (see the module docs); an absolute
/// path is its own only candidate.
pub fn candidates(relative: &Path) -> Vec<PathBuf> {
    candidates_for(relative, std::env::current_exe().ok().as_deref())
}

/// [`candidates`] for the executable at `exe`.
fn candidates_for(relative: &Path, exe: Option<&Path>) -> Vec<PathBuf> {
    let mut out = vec![relative.to_path_buf()];
    if relative.is_absolute() {
        return out;
    }
    if let Some(exe) = exe {
        out.extend(exe.ancestors().skip(1).take(EXE_ANCESTORS).map(|dir| dir.join(relative)));
        if let Some(prefix) = exe.parent().and_then(Path::parent) {
            out.push(prefix.join("share/mocapd").join(relative));
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    out
}

/// The first candidate of `relative` that is a file, or every place looked at (for the error).
pub fn locate(relative: &Path) -> Result<PathBuf, Looked> {
    let c = candidates(relative);
    c.iter().find(|p| p.is_file()).cloned().ok_or(Looked(c))
}

/// The places a file was looked for, shown `a, b, c` in error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Looked(pub Vec<PathBuf>);

impl std::fmt::Display for Looked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.0.iter().map(|p| p.display().to_string()).collect();
        f.write_str(&names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_directory_then_executable_ancestors_then_install_prefix() {
        let rel = Path::new("models/m.onnx");
        let c = candidates_for(rel, Some(Path::new("/repo/target/release/mocapd")));
        let want: Vec<PathBuf> = ["models/m.onnx", "/repo/target/release", "/repo/target", "/repo", "/", "/repo/target/share/mocapd"]
            .iter()
            .enumerate()
            .map(|(i, d)| if i == 0 { PathBuf::from(d) } else { Path::new(d).join(rel) })
            .collect();
        assert_eq!(c, want);
        let c = candidates_for(rel, Some(Path::new("/usr/local/bin/mocapd")));
        assert!(c.contains(&PathBuf::from("/usr/local/share/mocapd/models/m.onnx")), "{c:?}");
        assert_eq!(candidates_for(Path::new("/abs/m.onnx"), Some(Path::new("/x/bin/mocapd"))), vec![PathBuf::from("/abs/m.onnx")]);
    }

    #[test]
    fn locate_finds_a_file_beside_an_ancestor_or_says_where_it_looked() {
        let missing = Path::new("models/no-such-model-anywhere.onnx");
        let looked = locate(missing).unwrap_err();
        assert!(looked.0.len() >= 2 && looked.to_string().starts_with("models/no-such-model-anywhere.onnx, /"), "{looked}");
        // The test binary lives under target/: the repository's models are found from it.
        assert!(locate(Path::new("models/movenet-lightning.onnx")).is_ok());
    }
}
