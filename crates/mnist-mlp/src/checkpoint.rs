//! A trained model on disk: `model.safetensors` (the weights, by their Candle names) and
//! `config.json` (everything else: architecture and seed, recipe, data checksums, history).
//! `model.save(dir, &card)` writes them; `Mlp::load(dir, &device)` rebuilds exactly that model.

use crate::data::Mnist;
use crate::error::{Error, Result};
use crate::history::History;
use crate::model::{Mlp, MlpConfig, add_var};
use crate::optim::AdamConfig;
use crate::train::TrainConfig;
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
    /// Saves into `dir` (created if needed), the card's `model` set to this model's config. Each
    /// file is written beside its final name, then renamed, so an interrupted save never leaves
    /// a file that half-loads.
    pub fn save(&self, dir: impl AsRef<Path>, card: &ModelCard) -> Result<()> {
        let dir = dir.as_ref();
        let card = ModelCard { model: self.config().clone(), ..card.clone() };
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let tensors: HashMap<String, Tensor> =
            self.parameters().into_iter().map(|(name, tensor)| (name, tensor.clone())).collect();
        let weights = dir.join(WEIGHTS_FILE);
        let weights_tmp = dir.join(format!("{WEIGHTS_FILE}.partial"));
        candle_core::safetensors::save(&tensors, &weights_tmp).map_err(|e| Error::file(&weights_tmp, e.to_string()))?;
        let config = dir.join(CONFIG_FILE);
        let config_tmp = dir.join(format!("{CONFIG_FILE}.partial"));
        let json = serde_json::to_string_pretty(&card).map_err(|e| Error::file(&config, e.to_string()))?;
        std::fs::write(&config_tmp, json + "\n").map_err(|e| Error::io(&config_tmp, e))?;
        std::fs::rename(&weights_tmp, &weights).map_err(|e| Error::io(&weights, e))?;
        std::fs::rename(&config_tmp, &config).map_err(|e| Error::io(&config, e))?;
        Ok(())
    }

    /// Loads a model saved by [`Mlp::save`] onto `device`, checking the version, the architecture,
    /// every tensor's name, dtype and shape, and that every weight is finite.
    pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<(Mlp, ModelCard)> {
        let dir = dir.as_ref();
        let (config, weights) = (dir.join(CONFIG_FILE), dir.join(WEIGHTS_FILE));
        let config_json = std::fs::read(&config).map_err(|e| Error::io(&config, e))?;
        if !weights.is_file() {
            return Err(Error::file(&weights, "missing: the model folder holds no weights"));
        }
        let weights_bytes = std::fs::read(&weights).map_err(|e| Error::io(&weights, e))?;
        from_bytes(&config_json, &config, &weights_bytes, &weights, device)
    }
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
