//! A model folder on disk: `model.safetensors` (the weights, by their Candle names) and
//! `config.json` (the model card), written as one unit and read as one unit, each tensor checked
//! for dtype, shape and finiteness. What the card holds and which tensors a model has is the
//! model's business (`Mlp::save`, `Mlp::load`); this file only knows folders, files and tensors.

use crate::error::{Error, Result};
use crate::io::read::{self, LimitedFile};
use crate::io::save_dir;
use candle_core::{DType, Device, Tensor, Var};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const CONFIG_FILE: &str = "config.json";

/// Writes `tensors` and the card's JSON into `dir` as one unit (see [`save_dir`]): a reader finds
/// the old model or the new one, never a mix.
pub(crate) fn write(dir: &Path, tensors: &HashMap<String, Tensor>, card_json: &str) -> Result<()> {
    let weights =
        safetensors::serialize(tensors, None).map_err(|e| Error::file(dir.join(WEIGHTS_FILE), e.to_string()))?;
    save_dir::write_folder(dir, &[(WEIGHTS_FILE, &weights), (CONFIG_FILE, (card_json.to_string() + "\n").as_bytes())])
}

/// The bytes of `dir`'s two files, `config.json` first, read within their limits ([`read::CONFIG`],
/// [`read::WEIGHTS`]) and from one and the same folder.
pub(crate) fn read(dir: &Path) -> Result<(Vec<u8>, Vec<u8>)> {
    let (config, weights) = (dir.join(CONFIG_FILE), dir.join(WEIGHTS_FILE));
    // A save swaps a whole new folder into place. Had one done so between opening the two
    // files, they would belong to different models: open both again until they were opened
    // while `dir` was one and the same folder.
    for _ in 0..LOAD_ATTEMPTS {
        let folder = HeldFolder::open(dir)?;
        let config_file = LimitedFile::open(&config, read::CONFIG)?;
        if !weights.exists() {
            return Err(Error::file(&weights, "missing: the model folder holds no weights"));
        }
        let weights_file = LimitedFile::open(&weights, read::WEIGHTS)?;
        if folder.still_in_place()? {
            let config_json = config_file.read_all(&config)?;
            let weights_bytes = weights_file.read_all(&weights)?;
            return Ok((config_json, weights_bytes));
        }
    }
    Err(Error::file(dir, "another process saved into it every time it was read; load it when the save is done"))
}

/// The tensors of a `model.safetensors` read from `path` (which only names it in errors).
pub(crate) fn tensors(weights_bytes: &[u8], path: &Path, device: &Device) -> Result<HashMap<String, Tensor>> {
    candle_core::safetensors::load_buffer(weights_bytes, device).map_err(|e| Error::file(path, e.to_string()))
}

/// How often [`read`] opens the files again when a save replaced the folder meanwhile.
const LOAD_ATTEMPTS: usize = 10;

/// A model folder kept open. While it is open its identity (device, inode) cannot be given to a
/// new folder, so finding that identity at the path again proves no save replaced it meanwhile
/// (saves always put a newly made folder in place).
struct HeldFolder<'a> {
    path: &'a Path,
    identity: Option<(u64, u64)>,
    _open: Option<std::fs::File>,
}

impl<'a> HeldFolder<'a> {
    fn open(path: &'a Path) -> Result<Self> {
        if !path.is_dir() {
            // Let the reads name the missing or wrong file, as before.
            return Ok(HeldFolder { path, identity: None, _open: None });
        }
        let open = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let identity = identity(&open.metadata().map_err(|e| Error::io(path, e))?);
        Ok(HeldFolder { path, identity, _open: Some(open) })
    }

    fn still_in_place(&self) -> Result<bool> {
        let now = std::fs::metadata(self.path).map_err(|e| Error::io(self.path, e))?;
        Ok(identity(&now) == self.identity)
    }
}

#[cfg(unix)]
fn identity(metadata: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((metadata.dev(), metadata.ino()))
}

/// Elsewhere there is no identity to compare: loading keeps the single attempt it always had.
#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// Whether `Mlp::save` can save into `dir`; run it before training, so a bad `--out` fails at once.
pub fn check_save_target(dir: impl AsRef<Path>) -> Result<()> {
    save_dir::check_target(dir.as_ref(), &[WEIGHTS_FILE, CONFIG_FILE])
}

/// Removes tensor `name` from `tensors`, checking dtype, shape and finiteness.
pub(crate) fn take(tensors: &mut HashMap<String, Tensor>, path: &Path, name: &str, shape: &[usize]) -> Result<Var> {
    let bad = |problem: String| Error::file(PathBuf::from(path), format!("tensor `{name}`: {problem}"));
    let tensor = tensors.remove(name).ok_or_else(|| bad("missing".into()))?;
    if tensor.dtype() != DType::F32 {
        return Err(bad(format!("dtype {:?}, expected F32", tensor.dtype())));
    }
    if tensor.dims() != shape {
        return Err(bad(format!("shape {:?}, expected {shape:?}", tensor.dims())));
    }
    let values = tensor.flatten_all()?.to_vec1::<f32>()?;
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!("value {} at flat index {i} is not finite", values[i])));
    }
    Ok(Var::from_tensor(&tensor)?)
}

/// An error naming the first tensor nobody took: weights of another architecture.
pub(crate) fn check_all_taken(tensors: &HashMap<String, Tensor>, path: &Path) -> Result<()> {
    match tensors.keys().next() {
        Some(extra) => Err(Error::file(path, format!("unexpected tensor `{extra}`"))),
        None => Ok(()),
    }
}
