//! A trained model on disk: `model.safetensors` (the weights, by their Candle names) and
//! `config.json` (everything else: architecture and seed, recipe, data checksums, history).
//! `model.save(dir, &card)` writes them; `Mlp::load(dir, &device)` rebuilds exactly that model.

use crate::data::Mnist;
use crate::error::{Error, Result};
use crate::history::History;
use crate::model::{Mlp, MlpConfig, add_var};
use crate::optim::AdamConfig;
use crate::read::LimitedFile;
use crate::train::TrainConfig;
use crate::{read, save_dir};
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const CONFIG_FILE: &str = "config.json";
/// Bumped whenever the files change meaning; loading refuses other versions.
/// 2: the architecture is `model` (hidden sizes and seed); 1 had a fixed one.
pub const FORMAT_VERSION: u32 = 2;

/// Everything about a saved model except its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub format_version: u32,
    /// The architecture and the seed of its initial weights and of the shuffling.
    pub model: MlpConfig,
    pub training: TrainConfig,
    pub optimizer: AdamConfig,
    /// SHA-256 of the data files it was trained on.
    pub data_sha256: BTreeMap<String, String>,
    pub history: History,
    pub test_accuracy: Option<f32>,
}

impl ModelCard {
    pub fn new(model: &Mlp, training: &TrainConfig, data: &Mnist, history: &History) -> Self {
        ModelCard {
            format_version: FORMAT_VERSION,
            model: model.config().clone(),
            training: training.clone(),
            optimizer: training.adam(),
            data_sha256: data.sha256.clone(),
            history: history.clone(),
            test_accuracy: history.test_accuracy(),
        }
    }
}

impl Mlp {
    /// Saves into `dir`, the card's `model` set to this model's config, as one unit (see
    /// [`crate::save_dir`]): a reader finds the old model or the new one, never a mix. `dir` must
    /// be new, empty, or a model folder ([`check_save_target`]).
    pub fn save(&self, dir: impl AsRef<Path>, card: &ModelCard) -> Result<()> {
        let dir = dir.as_ref();
        let card = ModelCard { model: self.config().clone(), ..card.clone() };
        let tensors: HashMap<String, Tensor> =
            self.parameters().into_iter().map(|(name, tensor)| (name, tensor.clone())).collect();
        let weights =
            safetensors::serialize(&tensors, None).map_err(|e| Error::file(dir.join(WEIGHTS_FILE), e.to_string()))?;
        let json =
            serde_json::to_string_pretty(&card).map_err(|e| Error::file(dir.join(CONFIG_FILE), e.to_string()))?;
        save_dir::write_folder(dir, &[(WEIGHTS_FILE, &weights), (CONFIG_FILE, (json + "\n").as_bytes())])
    }

    /// Loads a model saved by [`Mlp::save`] onto `device`, checking the version, the architecture,
    /// every tensor's name, dtype and shape, and that every weight is finite. Each file is read
    /// within its limit ([`read::CONFIG`], [`read::WEIGHTS`]).
    pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<(Mlp, ModelCard)> {
        let dir = dir.as_ref();
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
                return from_bytes(&config_json, &config, &weights_bytes, &weights, device);
            }
        }
        Err(Error::file(dir, "another process saved into it every time it was read; load it when the save is done"))
    }
}

/// How often [`Mlp::load`] opens the files again when a save replaced the folder meanwhile.
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

/// Whether [`Mlp::save`] can save into `dir`; run it before training, so a bad `--out` fails at once.
pub fn check_save_target(dir: impl AsRef<Path>) -> Result<()> {
    save_dir::check_target(dir.as_ref(), &[WEIGHTS_FILE, CONFIG_FILE])
}

/// A model from the contents of its two files; the paths only name them in errors.
pub fn from_bytes(
    config_json: &[u8],
    config: &Path,
    weights_bytes: &[u8],
    weights: &Path,
    device: &Device,
) -> Result<(Mlp, ModelCard)> {
    let card: ModelCard = serde_json::from_slice(config_json).map_err(|e| Error::file(config, e.to_string()))?;
    if card.format_version != FORMAT_VERSION {
        return Err(Error::file(
            config,
            format!("format version {} is not supported (this build reads {FORMAT_VERSION})", card.format_version),
        ));
    }
    card.model.validate().map_err(|e| Error::file(config, e.to_string()))?;
    let mut tensors = candle_core::safetensors::load_buffer(weights_bytes, device)
        .map_err(|e| Error::file(weights, e.to_string()))?;
    let vars = VarMap::new();
    for (layer, inputs, outputs, _) in card.model.layers() {
        for (name, shape) in
            [(format!("{layer}.weight"), vec![outputs, inputs]), (format!("{layer}.bias"), vec![outputs])]
        {
            let var = take(&mut tensors, weights, &name, &shape)?;
            add_var(&vars, name, var);
        }
    }
    if let Some(extra) = tensors.keys().next() {
        return Err(Error::file(weights, format!("unexpected tensor `{extra}`")));
    }
    Ok((Mlp::build(&card.model, &vars, device)?, card))
}

/// Removes tensor `name` from `tensors`, checking dtype, shape and finiteness.
fn take(tensors: &mut HashMap<String, Tensor>, path: &Path, name: &str, shape: &[usize]) -> Result<Var> {
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
