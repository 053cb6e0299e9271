//! A data folder's `SHA256SUMS`, in the forms the usual tools write.
//!
//! `sha256sum` writes `<hex>  name` (or `<hex> *name` in binary mode, with `./name` when given
//! that path), `sha256sum --tag` writes `SHA256 (name) = <hex>`. A line for `name` is checked
//! against the decompressed bytes (as the bundled file lists them); a line for `name.gz` against
//! the gzip'd file as stored, which is what `sha256sum *.gz` computes.

use crate::error::{Error, Result};
use crate::io::idx::IdxFile;
use crate::io::read;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "SHA256SUMS";

/// The digests a `SHA256SUMS` lists, by file name, and how many of them were checked.
#[derive(Debug)]
pub struct Checksums {
    path: PathBuf,
    digests: BTreeMap<String, String>,
    verified: usize,
}

impl Checksums {
    /// `dir/SHA256SUMS`, or `None` when there is none.
    pub fn read(dir: &Path) -> Result<Option<Checksums>> {
        let path = dir.join(FILE_NAME);
        if !path.exists() {
            return Ok(None);
        }
        let bytes = read::read_limited(&path, read::CHECKSUMS)?;
        let text = String::from_utf8(bytes).map_err(|_| Error::file(&path, "not UTF-8 text"))?;
        let mut digests = BTreeMap::new();
        for (number, line) in (1..).zip(text.lines()) {
            if line.trim().is_empty() {
                continue;
            }
            let (name, digest) = parse_line(line).ok_or_else(|| {
                Error::file(&path, format!("line {number} is not `<sha256>  <file>` nor `SHA256 (<file>) = <sha256>`"))
            })?;
            if let Some(other) = digests.insert(name.clone(), digest.clone())
                && other != digest
            {
                return Err(Error::file(&path, format!("`{name}` is listed twice with different digests")));
            }
        }
        Ok(Some(Checksums { path, digests, verified: 0 }))
    }

    /// Whether a line is about `path`'s bytes as stored (gzip'd), so they must be hashed too.
    pub fn lists_stored_file(&self, path: &Path) -> bool {
        stored_name(path).is_some_and(|stored| stored.ends_with(".gz") && self.digests.contains_key(stored))
    }

    /// Checks the file read from `path` (`name`, or `name.gz`) against every line about it.
    pub fn verify(&mut self, path: &Path, name: &str, file: &IdxFile) -> Result<()> {
        let mut check = |listed: &str, actual: Option<&String>| -> Result<()> {
            match (self.digests.get(listed), actual) {
                (Some(expected), Some(actual)) if expected != actual => Err(Error::Checksum {
                    path: path.to_path_buf(),
                    expected: format!("{expected} (listed for `{listed}` in {})", self.path.display()),
                    actual: actual.clone(),
                }),
                (Some(_), Some(_)) => {
                    self.verified += 1;
                    Ok(())
                }
                _ => Ok(()),
            }
        };
        check(name, Some(&file.sha256))?;
        match stored_name(path) {
            Some(stored) if stored != name => check(stored, file.stored_sha256.as_ref()),
            _ => Ok(()),
        }
    }

    /// An error when none of `names` (nor their `.gz`) was checked: a checksum file that checks
    /// nothing gives a false sense of safety.
    pub fn check_some_verified(&self, names: &[&str]) -> Result<()> {
        if self.verified > 0 {
            return Ok(());
        }
        let listed: Vec<&str> = self.digests.keys().take(5).map(String::as_str).collect();
        Err(Error::file(
            &self.path,
            format!(
                "verified none of the data files: it lists {} but none of {} (raw or .gz)",
                if listed.is_empty() { "nothing".to_string() } else { format!("`{}`", listed.join("`, `")) },
                names.join(", ")
            ),
        ))
    }
}

/// The file name and lowercase digest of one line, `None` when the line is malformed.
fn parse_line(line: &str) -> Option<(String, String)> {
    let line = line.trim_end_matches('\r');
    let (name, digest) = if let Some(tagged) = line.strip_prefix("SHA256 (") {
        let (name, digest) = tagged.rsplit_once(") = ")?;
        (name.to_string(), digest)
    } else {
        // GNU coreutils starts a line with `\` when it escaped `\` or a newline in the name.
        let (escaped, line) = match line.strip_prefix('\\') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let (digest, rest) = line.split_once([' ', '\t'])?;
        let name = rest.strip_prefix([' ', '*']).unwrap_or(rest);
        (if escaped { unescape(name) } else { name.to_string() }, digest)
    };
    let valid = digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit());
    let mut name = name.as_str();
    while let Some(rest) = name.strip_prefix("./") {
        name = rest;
    }
    (valid && !name.is_empty()).then(|| (name.to_string(), digest.to_ascii_lowercase()))
}

fn unescape(name: &str) -> String {
    name.replace("\\n", "\n").replace("\\\\", "\\")
}

fn stored_name(path: &Path) -> Option<&str> {
    path.file_name()?.to_str()
}
