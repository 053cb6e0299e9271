//! Reading input files safely: only regular files, never blocking on a FIFO, and never more bytes
//! than that kind of file can legitimately hold.
//!
//! A size from `stat` is not enough: `/dev/zero` reports 0 bytes and streams forever, a FIFO
//! blocks `open` until a writer comes, and `/proc` files report 0 whatever they hold. So a file
//! is opened without blocking, checked on the opened handle (no race with a swapped path), and
//! its limit is enforced again on the bytes actually read.

use crate::error::{Error, Result};
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;

/// What one kind of input file may hold at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Names the kind in errors: "an image file".
    pub kind: &'static str,
    pub max_bytes: u64,
}

const MIB: u64 = 1024 * 1024;

/// A picture to classify: a 10,000 × 10,000 photo compresses to far less.
pub const IMAGE: Limit = Limit { kind: "an image file", max_bytes: 256 * MIB };
/// A model's `config.json`: a few KB, plus ~200 bytes of history per epoch.
pub const CONFIG: Limit = Limit { kind: "a model's config.json", max_bytes: 16 * MIB };
/// A model's weights: 32 million f32 parameters, 300 times the classic model's 0.44 MB.
pub const WEIGHTS: Limit = Limit { kind: "a model's weights", max_bytes: 128 * MIB };
/// A `SHA256SUMS` file: about 100 bytes a line.
pub const CHECKSUMS: Limit = Limit { kind: "a SHA256SUMS file", max_bytes: MIB };

impl Limit {
    /// This kind of file with another maximum.
    pub const fn with_max(self, max_bytes: u64) -> Limit {
        Limit { max_bytes, ..self }
    }

    /// The error for a file of `size` bytes, or of more than the limit when its size is unknown.
    fn too_large(&self, size: Option<u64>) -> String {
        let (kind, max) = (self.kind, self.max_bytes);
        match size {
            Some(size) => format!("too large: {size} bytes, while {kind} holds at most {max} bytes"),
            None => format!("too large: {kind} holds at most {max} bytes, and this one holds more"),
        }
    }
}

/// A regular file opened for reading, whose reads fail once they pass the limit.
#[derive(Debug)]
pub struct LimitedFile {
    file: File,
    limit: Limit,
    read: u64,
}

impl LimitedFile {
    /// Opens `path` without blocking and refuses anything but a regular file no larger than `limit`.
    pub fn open(path: &Path, limit: Limit) -> Result<LimitedFile> {
        let file = open_nonblocking(path).map_err(|e| Error::io(path, e))?;
        let metadata = file.metadata().map_err(|e| Error::io(path, e))?;
        if !metadata.is_file() {
            return Err(Error::file(path, format!("not a regular file but {}", file_type_name(&metadata))));
        }
        if metadata.len() > limit.max_bytes {
            return Err(Error::file(path, limit.too_large(Some(metadata.len()))));
        }
        Ok(LimitedFile { file, limit, read: 0 })
    }

    /// The whole file.
    pub fn read_all(mut self, path: &Path) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
        Ok(bytes)
    }
}

impl Read for LimitedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Asks for one byte past the limit, so a file that grew (or lied about its size) is caught.
        let room = (self.limit.max_bytes + 1 - self.read).min(buf.len() as u64) as usize;
        let n = self.file.read(&mut buf[..room])?;
        self.read += n as u64;
        if self.read > self.limit.max_bytes {
            return Err(io::Error::new(io::ErrorKind::FileTooLarge, self.limit.too_large(None)));
        }
        Ok(n)
    }
}

/// Reads all of `path` within `limit`; errors name the file.
pub fn read_limited(path: &Path, limit: Limit) -> Result<Vec<u8>> {
    LimitedFile::open(path, limit)?.read_all(path)
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer; for a
    // regular file it changes nothing.
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

fn file_type_name(metadata: &Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = metadata.file_type();
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if metadata.is_dir() { "a folder" } else { "a special file" }
}
