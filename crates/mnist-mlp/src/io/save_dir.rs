//! Saving a folder of files as one unit: whoever reads it finds the old files or the new ones,
//! never a mix, even if the writer is killed at any point or another writer saves at once.
//!
//! The files are written into a fresh folder beside the target, named uniquely for this writer
//! (`.NAME.saving-PID-N`), flushed to disk, and then swapped with the target in one step:
//! `rename` when there is no target yet, else Linux's `renameat2(RENAME_EXCHANGE)`; the old
//! folder, now under the temporary name, is then deleted. Renaming two files one after the other
//! cannot give that (a kill between the renames leaves new weights beside an old config), and a
//! digest in the config checked on load would only detect the mix, not prevent it. Where the
//! exchange is not available (another OS, or a file system without it) the old folder is moved
//! aside first, which leaves a moment without a target. A failed save (a full disk) removes its
//! temporary folder; one left by a killed writer is removed by the next save beside it.
//!
//! Because the whole folder is replaced, a target must hold nothing but the files saved into it:
//! [`check_target`] refuses other contents, and is meant to run before the work that produces
//! the files (a training run) as well.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Checks that `dir` can receive a folder of `names`: it is absent, or a folder holding only
/// files among `names`, and its parent folder (created if missing) accepts new entries.
pub fn check_target(dir: &Path, names: &[&str]) -> Result<()> {
    prepare(dir, names).map(drop)
}

/// Replaces the contents of `dir` with `files` (name, bytes) in one step; see the module's
/// documentation. The files get the usual mode of new files (0644 under the usual umask).
pub fn write_folder(dir: &Path, files: &[(&str, &[u8])]) -> Result<()> {
    let names: Vec<&str> = files.iter().map(|(name, _)| *name).collect();
    let (parent, target) = prepare(dir, &names)?;
    let prefix = temp_prefix(&target);
    remove_abandoned(&parent, &prefix);
    let temp = create_temp_dir(&parent, &prefix).map_err(|e| Error::io(dir, e))?;
    let written = write_files(&temp, dir, files).and_then(|()| install(&temp, &target, &parent));
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&temp);
    }
    written
}

/// [`check_target`], returning the target's parent and the target, symbolic links resolved.
fn prepare(dir: &Path, names: &[&str]) -> Result<(PathBuf, PathBuf)> {
    let (parent, target) = resolve(dir)?;
    check_contents(&target, names)?;
    let probe = create_temp_dir(&parent, &temp_prefix(&target)).map_err(|e| Error::io(&parent, e))?;
    std::fs::remove_dir(&probe).map_err(|e| Error::io(&probe, e))?;
    Ok((parent, target))
}

/// The target's parent (created if missing) and the target's own path, symbolic links resolved.
fn resolve(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    if let Ok(resolved) = dir.canonicalize() {
        let parent = resolved.parent().map(Path::to_path_buf);
        return match parent {
            Some(parent) if resolved.file_name().is_some() => Ok((parent, resolved)),
            _ => Err(Error::file(dir, "cannot save into the root folder; name a folder for the model")),
        };
    }
    let name = dir.file_name().ok_or_else(|| Error::file(dir, "names no folder; name a folder for the model"))?;
    let parent = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if parent.exists() && !parent.is_dir() {
        return Err(Error::file(parent, "is not a folder, so no model folder can be made in it"));
    }
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let parent = parent.canonicalize().map_err(|e| Error::io(parent, e))?;
    Ok((parent.clone(), parent.join(name)))
}

/// Checks an existing target: a folder with nothing in it but files among `names`.
fn check_contents(dir: &Path, names: &[&str]) -> Result<()> {
    let metadata = match std::fs::metadata(dir) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    if !metadata.is_dir() {
        return Err(Error::file(dir, "exists and is not a folder; name a new or empty folder for the model"));
    }
    let mut others = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let name = entry.map_err(|e| Error::io(dir, e))?.file_name();
        if !names.iter().any(|allowed| name == **allowed) {
            others.push(name.to_string_lossy().into_owned());
        }
    }
    if !others.is_empty() {
        others.sort();
        return Err(Error::file(
            dir,
            format!(
                "holds other files (`{}`), which saving would replace; name a new or empty folder, \
                 or one that holds only {}",
                others.join("`, `"),
                names.join(" and ")
            ),
        ));
    }
    Ok(())
}

/// Writes each file into `temp` and flushes it, then flushes `temp` itself; errors name the
/// file as it will be called in `dir`.
fn write_files(temp: &Path, dir: &Path, files: &[(&str, &[u8])]) -> Result<()> {
    for (name, bytes) in files {
        let write = || -> io::Result<()> {
            let mut file = File::create_new(temp.join(name))?;
            file.write_all(bytes)?;
            file.sync_all()
        };
        write().map_err(|e| Error::file(dir.join(name), format!("{e} (the model was not saved; nothing changed)")))?;
    }
    sync_dir(temp).map_err(|e| Error::io(dir, e))
}

/// Puts `temp` in the place of `target` in one step, then deletes what was there.
fn install(temp: &Path, target: &Path, parent: &Path) -> Result<()> {
    let failed = |e: io::Error| Error::file(target, format!("cannot put the saved folder in place: {e}"));
    // A few rounds: another writer may create or remove the target between two calls.
    for _ in 0..3 {
        match std::fs::rename(temp, target) {
            Ok(()) => return sync_dir(parent).map_err(|e| Error::io(parent, e)),
            Err(e) if is_occupied(&e) => {}
            Err(e) => return Err(failed(e)),
        }
        match exchange(temp, target) {
            Ok(()) => {
                // `temp` now holds the old contents.
                std::fs::remove_dir_all(temp).map_err(|e| Error::io(temp, e))?;
                return sync_dir(parent).map_err(|e| Error::io(parent, e));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            // The file system cannot exchange (EINVAL), or the system has no such call.
            Err(e) if e.kind() == io::ErrorKind::Unsupported || e.raw_os_error() == Some(libc::EINVAL) => {
                return replace_in_two_steps(temp, target, parent).map_err(failed);
            }
            Err(e) => return Err(failed(e)),
        }
    }
    Err(failed(io::Error::other("other writers kept changing it")))
}

fn is_occupied(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::DirectoryNotEmpty | io::ErrorKind::AlreadyExists)
}

/// Swaps two paths in one step.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c_path = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other);
    let (a, b) = (c_path(a)?, c_path(b)?);
    // SAFETY: both are valid NUL-terminated paths that outlive the call.
    let status =
        unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
    if status == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Without an exchange: the old folder aside, the new one in, the old one deleted.
fn replace_in_two_steps(temp: &Path, target: &Path, parent: &Path) -> io::Result<()> {
    let aside = create_temp_dir(parent, ".replaced")?;
    std::fs::rename(target, &aside)?;
    std::fs::rename(temp, target)?;
    std::fs::remove_dir_all(&aside)?;
    sync_dir(parent)
}

/// `.NAME.saving`: the start of the temporary folders' names for target `NAME`.
fn temp_prefix(target: &Path) -> String {
    format!(".{}.saving", target.file_name().unwrap_or_default().to_string_lossy())
}

/// A new, empty folder `PREFIX-PID-N` in `parent`, never one another writer has.
fn create_temp_dir(parent: &Path, prefix: &str) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = parent.join(format!("{prefix}-{}-{n}", std::process::id()));
        match std::fs::create_dir(&path) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            result => return result.map(|()| path),
        }
    }
}

/// Deletes the temporary folders named `PREFIX-PID-N` whose writer no longer runs (killed mid-save).
fn remove_abandoned(parent: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name.to_str().and_then(|n| n.strip_prefix(prefix)?.strip_prefix('-')?.split('-').next());
        if let Some(pid) = pid.and_then(|p| p.parse::<u32>().ok())
            && !process_runs(pid)
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(unix)]
fn process_runs(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return true };
    // SAFETY: signal 0 only asks whether the process exists.
    unsafe { libc::kill(pid, 0) == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH) }
}

#[cfg(not(unix))]
fn process_runs(_: u32) -> bool {
    true
}

/// Flushes a folder's entries to disk.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_: &Path) -> io::Result<()> {
    Ok(())
}
