//! Downloads the pinned registry packages that hold real motion capture into `data/raw/`,
//! checks each archive's sha256 against the table below, and extracts the motion files.
//! Shells out to `apt-get`, `python3 -m pip`, `dpkg-deb`, `tar`, `python3` (zipfile) and
//! `sha256sum`. LAFAN1 (CC BY-NC-ND 4.0) is opt-in only and lands in its own folder.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("`{tool}` is not installed or not on PATH; {hint}")]
    ToolMissing { tool: String, hint: &'static str },
    #[error("`{cmd}` failed ({status}): {stderr}")]
    CommandFailed { cmd: String, status: String, stderr: String },
    #[error("sha256 mismatch for {path}: expected {expected}, got {actual}")]
    Checksum { path: PathBuf, expected: &'static str, actual: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{archive} has no member {member}")]
    MissingMember { archive: PathBuf, member: String },
}

/// How a package is downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageKind {
    /// `apt-get download NAME=VERSION`; extracted with `dpkg-deb -x`.
    Debian,
    /// `pip download --no-deps --no-binary :all:`; a `.tar.gz`.
    PipSdist,
    /// `pip download --no-deps --only-binary :all:` for CPython 3.11 manylinux x86_64; a wheel.
    PipWheel,
}

/// One pinned package and the members taken from it.
#[derive(Debug, Clone, Copy)]
pub struct Package {
    pub name: &'static str,
    pub version: &'static str,
    pub kind: PackageKind,
    /// The downloaded file's name.
    pub file: &'static str,
    pub sha256: &'static str,
    /// Folder under the raw data directory the members go to.
    pub folder: &'static str,
    /// Members' paths inside the package; each lands as `folder/<file name>`.
    pub members: &'static [&'static str],
    pub licence: &'static str,
}

/// The pins (sha256 recorded at the first download, 2026-11-21).
pub const PACKAGES: &[Package] = &[
    Package {
        name: "assimp-testmodels",
        version: "5.2.5~ds0-1",
        kind: PackageKind::Debian,
        file: "assimp-testmodels_5.2.5~ds0-1_all.deb",
        sha256: "526f326186000cd6f631ea806128548a7d3d391abd8149fddc5c4c8513e80b8a",
        folder: "assimp",
        members: &[
            "usr/share/assimp/models/BVH/01_01.bvh",
            "usr/share/assimp/models/BVH/01_03.bvh",
            "usr/share/assimp/models/BVH/Boxing_Toes.bvh",
        ],
        licence: "CMU clips: free for research and commercial use; Boxing_Toes: Debian BSD-3 blanket",
    },
    Package {
        name: "bvhtoolbox",
        version: "0.1.3",
        kind: PackageKind::PipSdist,
        file: "bvhtoolbox-0.1.3.tar.gz",
        sha256: "2d9dcae87cd6bfa28c89463450de84497e612682ca0697ea088fc7f2ef0f937f",
        folder: "bvhtoolbox",
        members: &["bvhtoolbox-0.1.3/tests/example_files/test_mocapbank.bvh"],
        licence: "MIT",
    },
    Package {
        name: "bvhTools",
        version: "1.6.0",
        kind: PackageKind::PipSdist,
        file: "bvhtools-1.6.0.tar.gz",
        sha256: "840c67a4d94c4c4732d1a729eac0ba6b0cad7c334aed2773ea2ff15ffe64c144",
        folder: "freemocap",
        members: &["bvhtools-1.6.0/testBvhFiles/test3.bvh"],
        licence: "MIT",
    },
    Package {
        name: "pybullet",
        version: "3.2.7",
        kind: PackageKind::PipWheel,
        file: "pybullet-3.2.7-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        sha256: "5d858abf7c12a21ef3ed351cf81dac1b5e486ec25c9ab59bfc84beb89034edff",
        folder: "deepmimic",
        members: &[
            "pybullet_data/data/motions/humanoid3d_backflip.txt",
            "pybullet_data/data/motions/humanoid3d_cartwheel.txt",
            "pybullet_data/data/motions/humanoid3d_crawl.txt",
            "pybullet_data/data/motions/humanoid3d_dance_a.txt",
            "pybullet_data/data/motions/humanoid3d_dance_b.txt",
            "pybullet_data/data/motions/humanoid3d_getup_facedown.txt",
            "pybullet_data/data/motions/humanoid3d_getup_faceup.txt",
            "pybullet_data/data/motions/humanoid3d_jump.txt",
            "pybullet_data/data/motions/humanoid3d_kick.txt",
            "pybullet_data/data/motions/humanoid3d_punch.txt",
            "pybullet_data/data/motions/humanoid3d_roll.txt",
            "pybullet_data/data/motions/humanoid3d_run.txt",
            "pybullet_data/data/motions/humanoid3d_spin.txt",
            "pybullet_data/data/motions/humanoid3d_spinkick.txt",
            "pybullet_data/data/motions/humanoid3d_walk.txt",
        ],
        licence: "zlib / MIT",
    },
];

/// LAFAN1 takes inside the bvhTools sdist: opt-in only.
pub const LAFAN1: Package = Package {
    name: "bvhTools",
    version: "1.6.0",
    kind: PackageKind::PipSdist,
    file: "bvhtools-1.6.0.tar.gz",
    sha256: "840c67a4d94c4c4732d1a729eac0ba6b0cad7c334aed2773ea2ff15ffe64c144",
    folder: "lafan1",
    members: &["bvhtools-1.6.0/testBvhFiles/test.bvh", "bvhtools-1.6.0/testBvhFiles/test2.bvh"],
    licence: "CC BY-NC-ND 4.0",
};

/// The notice printed before LAFAN1 is extracted.
pub const LAFAN1_NOTICE: &str = "LAFAN1 (Ubisoft La Forge Animation Dataset) is licensed under \
Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 International (CC BY-NC-ND 4.0), \
https://creativecommons.org/licenses/by-nc-nd/4.0/ . You may not use it commercially nor \
distribute anything derived from it (models trained on it included). It is extracted to \
data/raw/lafan1/ for local, non-commercial research only; never commit or ship it.";

/// Fetch options.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchOptions {
    /// Also extract the LAFAN1 takes (prints the licence).
    pub lafan1: bool,
}

/// One extracted motion file.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedFile {
    pub package: &'static str,
    pub licence: &'static str,
    pub path: PathBuf,
}

/// Download (or reuse) every pinned package under `dir` (usually `data/raw`) and extract the
/// motion files. Cached: nothing is downloaded when the extracted files are already there.
pub fn fetch(dir: &Path, opts: FetchOptions) -> Result<Vec<FetchedFile>, FetchError> {
    let mut out = Vec::new();
    let lafan = opts.lafan1.then_some(&LAFAN1);
    if lafan.is_some() {
        eprintln!("{LAFAN1_NOTICE}");
    }
    for pkg in PACKAGES.iter().chain(lafan) {
        out.extend(fetch_package(dir, pkg)?);
    }
    Ok(out)
}

/// Where a package member lands.
pub fn member_path(dir: &Path, pkg: &Package, member: &str) -> PathBuf {
    let name = member.rsplit('/').next().unwrap_or(member);
    dir.join(pkg.folder).join(name)
}

/// Fetch one package (cached) and return its extracted files.
pub fn fetch_package(dir: &Path, pkg: &Package) -> Result<Vec<FetchedFile>, FetchError> {
    // One fetch at a time in this process (tests fetch from several threads); files appear by
    // rename, so another process never sees a half-written one.
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let files: Vec<FetchedFile> =
        pkg.members.iter().map(|m| FetchedFile { package: pkg.name, licence: pkg.licence, path: member_path(dir, pkg, m) }).collect();
    if files.iter().all(|f| f.path.is_file()) {
        return Ok(files);
    }
    let downloads = dir.join("downloads");
    mkdir(&downloads)?;
    let archive = downloads.join(pkg.file);
    if !archive.is_file() || sha256(&archive)? != pkg.sha256 {
        download(pkg, &downloads)?;
    }
    let actual = sha256(&archive)?;
    if actual != pkg.sha256 {
        return Err(FetchError::Checksum { path: archive, expected: pkg.sha256, actual });
    }
    let tmp = dir.join(format!("tmp-{}-{}", pkg.folder, std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    mkdir(&tmp)?;
    extract(pkg, &archive, &tmp)?;
    mkdir(&dir.join(pkg.folder))?;
    for (m, f) in pkg.members.iter().zip(&files) {
        let src = tmp.join(m);
        if !src.is_file() {
            return Err(FetchError::MissingMember { archive: archive.clone(), member: m.to_string() });
        }
        let part = f.path.with_extension("part");
        std::fs::copy(&src, &part).map_err(|source| FetchError::Io { path: part.clone(), source })?;
        std::fs::rename(&part, &f.path).map_err(|source| FetchError::Io { path: f.path.clone(), source })?;
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(files)
}

fn mkdir(p: &Path) -> Result<(), FetchError> {
    std::fs::create_dir_all(p).map_err(|source| FetchError::Io { path: p.to_path_buf(), source })
}

fn download(pkg: &Package, downloads: &Path) -> Result<(), FetchError> {
    let spec = format!("{}=={}", pkg.name, pkg.version);
    match pkg.kind {
        PackageKind::Debian => {
            let spec = format!("{}={}", pkg.name, pkg.version);
            run(Command::new("apt-get").args(["download", &spec]).current_dir(downloads), "apt-get", "install apt (Debian/Ubuntu)")
        }
        PackageKind::PipSdist => run(
            Command::new("python3").args(["-m", "pip", "download", "--no-deps", "--no-binary", ":all:", &spec, "-d"]).arg(downloads),
            "python3",
            "install Python 3 with pip",
        ),
        PackageKind::PipWheel => run(
            Command::new("python3")
                .args(["-m", "pip", "download", "--no-deps", "--only-binary", ":all:"])
                .args(["--platform", "manylinux_2_17_x86_64", "--python-version", "3.11"])
                .args(["--implementation", "cp", "--abi", "cp311", &spec, "-d"])
                .arg(downloads),
            "python3",
            "install Python 3 with pip",
        ),
    }
}

fn extract(pkg: &Package, archive: &Path, tmp: &Path) -> Result<(), FetchError> {
    match pkg.kind {
        PackageKind::Debian => run(Command::new("dpkg-deb").arg("-x").arg(archive).arg(tmp), "dpkg-deb", "install dpkg"),
        PackageKind::PipSdist => {
            run(Command::new("tar").arg("-xzf").arg(archive).arg("-C").arg(tmp).args(pkg.members), "tar", "install GNU tar")
        }
        PackageKind::PipWheel => run(
            Command::new("python3")
                .args(["-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2], sys.argv[3:])"])
                .arg(archive)
                .arg(tmp)
                .args(pkg.members),
            "python3",
            "install Python 3",
        ),
    }
}

/// sha256 of a file, hex (via `sha256sum`).
pub fn sha256(path: &Path) -> Result<String, FetchError> {
    let out = output(Command::new("sha256sum").arg(path), "sha256sum", "install coreutils")?;
    Ok(out.split_whitespace().next().unwrap_or("").to_string())
}

fn run(cmd: &mut Command, tool: &str, hint: &'static str) -> Result<(), FetchError> {
    output(cmd, tool, hint).map(|_| ())
}

fn output(cmd: &mut Command, tool: &str, hint: &'static str) -> Result<String, FetchError> {
    let shown = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => FetchError::ToolMissing { tool: tool.to_string(), hint },
        _ => FetchError::Io { path: PathBuf::from(tool), source: e },
    })?;
    if !out.status.success() {
        return Err(FetchError::CommandFailed {
            cmd: shown,
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
