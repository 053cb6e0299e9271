//! MNIST's IDX format: a big-endian header (magic number, count, and for images 28×28), then
//! one byte per pixel or label; gzip'd or raw. Decoding is bounded: a lying header or a gzip bomb
//! costs no more memory than the largest real file.

use crate::error::{BadLabel, Error, IdxProblem, Result};
use crate::io::read::{self, LimitedFile};
use crate::sizes::{IMAGE_PIXELS, IMAGE_SIDE};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The most items an IDX file may hold: MNIST's and Fashion-MNIST's training sets, the largest
/// of their four files. A header promising more is refused before anything is read.
pub(crate) const MAX_ITEMS: u32 = 60_000;
/// An IDX file on disk, gzip'd or raw: the largest MNIST file, plus room for gzip's framing of
/// incompressible data.
const IDX_FILE: read::Limit =
    read::Limit { kind: "an MNIST IDX file", max_bytes: 16 + MAX_ITEMS as u64 * IMAGE_PIXELS as u64 + 1024 * 1024 };
/// Bytes after the promised data are counted up to here, not to the end of a gzip bomb.
const TRAILING_COUNTED: u64 = 64 * 1024;

/// Which of MNIST's two IDX layouts a file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdxKind {
    Images,
    Labels,
}

impl IdxKind {
    fn magic(self) -> u32 {
        match self {
            IdxKind::Images => 2051,
            IdxKind::Labels => 2049,
        }
    }

    fn name(self) -> &'static str {
        match self {
            IdxKind::Images => "images",
            IdxKind::Labels => "labels",
        }
    }
}

/// One IDX file's items (images or labels) and the SHA-256 of its decompressed bytes.
#[derive(Debug)]
pub struct IdxFile {
    pub count: usize,
    pub bytes: Vec<u8>,
    pub sha256: String,
    /// SHA-256 of the bytes as stored (gzip'd), when it was asked for.
    pub stored_sha256: Option<String>,
}

/// Reads an IDX file, gzip'd or raw, from `path`; `hash_stored` also hashes the bytes as stored.
pub(crate) fn read_idx(path: &Path, kind: IdxKind, hash_stored: bool) -> Result<IdxFile> {
    let file = LimitedFile::open(path, IDX_FILE)?;
    let mut input = BufReader::new(HashingReader { inner: file, hasher: hash_stored.then(Sha256::new) });
    let problem = |problem| Error::Idx { path: path.to_path_buf(), problem };
    let mut idx = decode_idx(&mut input, kind).map_err(problem)?;
    if hash_stored {
        // A gzip stream may end before its file does; what follows is part of the stored bytes.
        std::io::copy(&mut input, &mut std::io::sink()).map_err(|e| problem(IdxProblem::Read(e.to_string())))?;
        idx.stored_sha256 = input.into_inner().hasher.map(|h| hex(&h.finalize()));
    }
    Ok(idx)
}

/// Hashes what passes through it, when it has a hasher.
struct HashingReader<R> {
    inner: R,
    hasher: Option<Sha256>,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// Decodes an IDX stream, gunzipping it first when it starts with gzip's magic bytes.
pub fn decode_idx(mut input: impl BufRead, kind: IdxKind) -> Result<IdxFile, IdxProblem> {
    let is_gzip = input.fill_buf().map_err(|e| IdxProblem::Read(e.to_string()))?.starts_with(&[0x1f, 0x8b]);
    if is_gzip {
        parse_idx(flate2::bufread::MultiGzDecoder::new(input), kind, true)
    } else {
        parse_idx(input, kind, false)
    }
}

/// Parses the IDX stream. The header's count is checked against [`MAX_ITEMS`] first, and the
/// data buffer grows only with bytes that really arrive, so a lying header allocates nothing.
fn parse_idx(mut reader: impl Read, kind: IdxKind, gzip: bool) -> Result<IdxFile, IdxProblem> {
    let read_problem = |error: std::io::Error| match error.kind() {
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            if gzip =>
        {
            IdxProblem::Gzip(error.to_string())
        }
        _ => IdxProblem::Read(error.to_string()),
    };
    let header_len = match kind {
        IdxKind::Images => 16,
        IdxKind::Labels => 8,
    };
    let mut header = vec![0u8; header_len];
    let got = read_full(&mut reader, &mut header).map_err(read_problem)?;
    if got < header_len {
        return Err(IdxProblem::Truncated { expected: header_len as u64, found: got as u64 });
    }
    let field = |i: usize| u32::from_be_bytes([header[4 * i], header[4 * i + 1], header[4 * i + 2], header[4 * i + 3]]);
    if field(0) != kind.magic() {
        return Err(IdxProblem::BadMagic { kind: kind.name(), expected: kind.magic(), found: field(0) });
    }
    let count = field(1);
    if count == 0 {
        return Err(IdxProblem::Empty { kind: kind.name() });
    }
    if count > MAX_ITEMS {
        return Err(IdxProblem::TooMany { kind: kind.name(), count, max: MAX_ITEMS });
    }
    let item_len = match kind {
        IdxKind::Images => {
            let (rows, cols) = (field(2), field(3));
            if (rows, cols) != (IMAGE_SIDE as u32, IMAGE_SIDE as u32) {
                return Err(IdxProblem::BadDimensions { rows, cols });
            }
            IMAGE_PIXELS as u64
        }
        IdxKind::Labels => 1,
    };
    let expected = u64::from(count) * item_len;
    let mut bytes = Vec::new();
    reader.by_ref().take(expected).read_to_end(&mut bytes).map_err(read_problem)?;
    if (bytes.len() as u64) < expected {
        return Err(IdxProblem::Truncated { expected, found: bytes.len() as u64 });
    }
    let extra = std::io::copy(&mut reader.take(TRAILING_COUNTED), &mut std::io::sink()).map_err(read_problem)?;
    if extra > 0 {
        return Err(IdxProblem::TrailingBytes { expected, extra });
    }
    if kind == IdxKind::Labels
        && let Some(bad) = BadLabel::find(bytes.iter().map(|&l| u32::from(l)))
    {
        return Err(IdxProblem::BadLabel(bad));
    }
    let mut hasher = Sha256::new();
    hasher.update(&header);
    hasher.update(&bytes);
    Ok(IdxFile { count: count as usize, bytes, sha256: hex(&hasher.finalize()), stored_sha256: None })
}

/// Fills `buf` as far as the stream allows, returning how many bytes were read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
