//! Real motion data from the pinned registry packages (`mocapd::data::fetch`), fetched once per
//! test binary into one cache that is never the repository's `data/`: `$MOCAPD_TEST_DATA` when
//! set (e.g. a folder `mocapd data fetch` filled), else `target/test-data/raw` (git-ignored).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mocapd::data::fetch::{fetch, FetchOptions, FetchedFile};

/// The environment variable that names the cache.
pub const CACHE_ENV: &str = "MOCAPD_TEST_DATA";

/// The cache folder (not created yet).
pub fn cache_dir() -> PathBuf {
    match std::env::var_os(CACHE_ENV).filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => super::manifest_dir().join("target/test-data/raw"),
    }
}

struct Cache {
    dir: PathBuf,
    files: Result<Vec<FetchedFile>, String>,
}

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| {
        let dir = cache_dir();
        let files = std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))
            .and_then(|()| fetch(&dir, FetchOptions::default()).map_err(|e| e.to_string()));
        Cache { dir, files }
    })
}

/// Every fetched motion file, or why the fetch failed (offline, say).
pub fn try_fetched() -> Result<&'static [FetchedFile], &'static str> {
    let c = cache();
    c.files.as_deref().map_err(|e| e.as_str())
}

/// Every fetched motion file; fails the test when the fetch failed.
pub fn fetched() -> &'static [FetchedFile] {
    try_fetched().unwrap_or_else(|e| panic!("fetching the test data into {} failed: {e}", cache().dir.display()))
}

/// The raw-data folder (what `--raw` / `raw_dir` options take), fetched.
pub fn raw_dir() -> &'static Path {
    fetched();
    &cache().dir
}

/// The fetched file called `name` (e.g. `01_01.bvh`).
pub fn fetched_file(name: &str) -> &'static Path {
    let f = fetched().iter().find(|f| f.path.file_name().is_some_and(|n| n == name));
    f.map(|f| f.path.as_path()).unwrap_or_else(|| panic!("{name} not fetched"))
}
