//! File I/O with the guarantees a user relies on: errors name the file, and outputs appear
//! whole or not at all (written to a temporary file in the same folder, then renamed).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))
}

/// Write `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes).with_context(|| format!("{}: write failed", path.display()))?;
    file.commit()
}

/// A file written in pieces that appears at `path` whole or not at all: a temporary file in the
/// same folder until [`AtomicFile::commit`] renames it; dropped uncommitted, it leaves nothing.
pub struct AtomicFile {
    path: PathBuf,
    tmp: tempfile::NamedTempFile,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<Self> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create folder", dir.display()))?;
        let tmp = tempfile::Builder::new()
            .prefix(".srkd-partial-")
            .tempfile_in(dir)
            .with_context(|| format!("{}: cannot create a temporary file", dir.display()))?;
        Ok(Self { path: path.to_path_buf(), tmp })
    }

    pub fn commit(self) -> Result<()> {
        let path = self.path;
        self.tmp
            .as_file()
            .sync_all()
            .and_then(|_| make_readable(self.tmp.as_file()))
            .with_context(|| format!("{}: write failed", path.display()))?;
        self.tmp
            .persist(&path)
            .map_err(|e| e.error)
            .with_context(|| format!("{}: cannot move the finished file into place", path.display()))?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tmp.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.tmp.flush()
    }
}

/// A folder written whole or not at all: filled in a temporary folder beside `out`, then
/// renamed into place by [`StagedDir::commit`]; dropped uncommitted, it leaves nothing.
pub struct StagedDir {
    staging: tempfile::TempDir,
    out: PathBuf,
}

impl StagedDir {
    /// `out` must not exist yet, or be an empty folder.
    pub fn new(out: &Path, prefix: &str) -> Result<Self> {
        if out.exists() && std::fs::read_dir(out).map(|mut d| d.next().is_some()).unwrap_or(true) {
            anyhow::bail!(
                "{}: already exists and is not empty; choose another --out (nothing was written)",
                out.display()
            );
        }
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).with_context(|| format!("{}: cannot create folder", parent.display()))?;
        let staging = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(&parent)
            .with_context(|| format!("{}: cannot create a temporary folder", parent.display()))?;
        Ok(Self { staging, out: out.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        self.staging.path()
    }

    /// Move the finished folder into place (readable by others: it is served or shared).
    pub fn commit(self) -> Result<()> {
        let out = &self.out;
        if out.exists() {
            std::fs::remove_dir(out).with_context(|| format!("{}: cannot replace the empty folder", out.display()))?;
        }
        let staged = self.staging.keep();
        std::fs::rename(&staged, out)
            .with_context(|| format!("{}: cannot move the finished folder into place", out.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o755))
                .with_context(|| format!("{}: cannot set permissions", out.display()))?;
        }
        Ok(())
    }
}

/// Temporary files are created owner-only; a finished output gets the usual 0644.
#[cfg(unix)]
fn make_readable(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn make_readable(_file: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}
