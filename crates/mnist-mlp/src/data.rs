//! MNIST in its original IDX format, gzip'd or raw, checked against `SHA256SUMS`.
//!
//! The same reader loads Fashion-MNIST, which ships in the same format.

use crate::error::{Error, Result};
use crate::io::checksums::Checksums;
use crate::io::idx::{IdxFile, IdxKind, read_idx};
use candle_core::{Device, Tensor};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use crate::sizes::{IMAGE_PIXELS, IMAGE_SIDE, NUM_CLASSES};

/// The folder of the MNIST copy that ships with the project, relative to the checkout's root.
pub const BUNDLED: &str = "data/mnist";
/// The folder of the Fashion-MNIST copy that ships with the project, relative to the checkout's root.
pub const BUNDLED_FASHION: &str = "data/fashion-mnist";
/// The variables that name another folder for each data set.
const MNIST_DIR: &str = "MNIST_DIR";
const FASHION_MNIST_DIR: &str = "FASHION_MNIST_DIR";

const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// A train/test split: images `[n, 784]` f32 in [0, 1], labels `[n]` u32.
#[derive(Debug, Clone)]
pub struct Mnist {
    pub train_images: Tensor,
    pub train_labels: Tensor,
    pub test_images: Tensor,
    pub test_labels: Tensor,
    /// The folder it came from.
    pub dir: PathBuf,
    /// SHA-256 of each file's decompressed bytes, keyed by its name without `.gz`.
    pub sha256: BTreeMap<String, String>,
}

impl Mnist {
    /// Loads from `MNIST_DIR` when it is set, else from the bundled copy (see [`bundled_dir`]).
    pub fn load() -> Result<Self> {
        Self::load_bundled(BUNDLED, MNIST_DIR)
    }

    /// Fashion-MNIST: from `FASHION_MNIST_DIR` when it is set, else from the bundled copy in
    /// `data/fashion-mnist`, found as [`bundled_dir`] finds MNIST's.
    pub fn fashion() -> Result<Self> {
        Self::load_bundled(BUNDLED_FASHION, FASHION_MNIST_DIR)
    }

    fn load_bundled(folder: &str, variable: &'static str) -> Result<Self> {
        match std::env::var_os(variable) {
            Some(dir) => Self::read_dir(Path::new(&dir), variable),
            None => Self::read_dir(&find_bundled(folder, variable)?, variable),
        }
    }

    /// Downloads MNIST from the Hugging Face hub with `candle-datasets` (needs the network and
    /// the `hub` feature; the bundled copy is the same data).
    #[cfg(feature = "hub")]
    pub fn from_hub() -> Result<Self> {
        let hub = candle_datasets::vision::mnist::load()?;
        Ok(Mnist {
            train_labels: hub.train_labels.to_dtype(candle_core::DType::U32)?,
            test_labels: hub.test_labels.to_dtype(candle_core::DType::U32)?,
            train_images: hub.train_images,
            test_images: hub.test_images,
            dir: PathBuf::from("hf://datasets/ylecun/mnist"),
            sha256: BTreeMap::new(),
        })
    }

    /// Reads the four IDX files of `dir`, verifying each against `dir/SHA256SUMS` when it lists them
    /// (see [`Checksums`]); a `SHA256SUMS` that verifies none of them is an error.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Self> {
        Self::read_dir(dir.as_ref(), MNIST_DIR)
    }

    /// [`Mnist::load_dir`]; a missing file's error names `variable` as the way to point elsewhere.
    fn read_dir(dir: &Path, variable: &'static str) -> Result<Self> {
        let mut checksums = Checksums::read(dir)?;
        let mut sha256 = BTreeMap::new();
        let mut read = |name: &str, kind: IdxKind| -> Result<(PathBuf, IdxFile)> {
            let path = find_file(dir, name, variable)?;
            let hash_file = checksums.as_ref().is_some_and(|sums| sums.lists_stored_file(&path));
            let file = read_idx(&path, kind, hash_file)?;
            if let Some(sums) = checksums.as_mut() {
                sums.verify(&path, name, &file)?;
            }
            sha256.insert(name.to_string(), file.sha256.clone());
            Ok((path, file))
        };
        let train = (read(TRAIN_IMAGES, IdxKind::Images)?, read(TRAIN_LABELS, IdxKind::Labels)?);
        let test = (read(TEST_IMAGES, IdxKind::Images)?, read(TEST_LABELS, IdxKind::Labels)?);
        if let Some(sums) = &checksums {
            sums.check_some_verified(&[TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS])?;
        }
        let (train_images, train_labels) = to_tensors(train.0, train.1)?;
        let (test_images, test_labels) = to_tensors(test.0, test.1)?;
        Ok(Mnist { train_images, train_labels, test_images, test_labels, dir: dir.to_path_buf(), sha256 })
    }

    /// The first `train` training and `test` test examples: quick experiments and tests.
    pub fn subset(&self, train: usize, test: usize) -> Result<Self> {
        let take = |t: &Tensor, n: usize| t.narrow(0, 0, n.min(t.dim(0)?));
        Ok(Mnist {
            train_images: take(&self.train_images, train)?,
            train_labels: take(&self.train_labels, train)?,
            test_images: take(&self.test_images, test)?,
            test_labels: take(&self.test_labels, test)?,
            ..self.clone()
        })
    }

    pub fn train_len(&self) -> usize {
        self.train_labels.dims1().unwrap_or(0)
    }

    pub fn test_len(&self) -> usize {
        self.test_labels.dims1().unwrap_or(0)
    }
}

/// Scales raw pixels 0–255 to [0, 1] the way `candle-datasets` does, so both give identical tensors.
fn pixels_to_tensor(pixels: &[u8], count: usize) -> Result<Tensor> {
    let scaled: Vec<f32> = pixels.iter().map(|&p| f32::from(p) * (1.0 / 255.0)).collect();
    Ok(Tensor::from_vec(scaled, (count, IMAGE_PIXELS), &Device::Cpu)?)
}

fn to_tensors(images: (PathBuf, IdxFile), labels: (PathBuf, IdxFile)) -> Result<(Tensor, Tensor)> {
    let ((images_path, images), (labels_path, labels)) = (images, labels);
    if images.count != labels.count {
        return Err(Error::CountMismatch {
            images: images_path,
            image_count: images.count,
            labels: labels_path,
            label_count: labels.count,
        });
    }
    let label_values: Vec<u32> = labels.bytes.iter().map(|&l| u32::from(l)).collect();
    Ok((pixels_to_tensor(&images.bytes, images.count)?, Tensor::from_vec(label_values, labels.count, &Device::Cpu)?))
}

/// The bundled `data/mnist`, found at run time in the folders above the running program (`mnist`
/// built in the checkout's `target/`) and then above the current folder (a notebook, a test, an
/// installed `mnist` run from the checkout). The error lists every place it looked.
pub fn bundled_dir() -> Result<PathBuf> {
    find_bundled(BUNDLED, MNIST_DIR)
}

/// The first `folder` (relative to a checkout's root) that holds a data set, above the running
/// program or the current folder.
fn find_bundled(folder: &str, variable: &'static str) -> Result<PathBuf> {
    let beside_program = std::env::current_exe().ok().and_then(|exe| exe.parent().map(Path::to_path_buf));
    let starts = [beside_program, std::env::current_dir().ok()];
    let candidates: Vec<PathBuf> =
        starts.iter().flatten().flat_map(|start| start.ancestors().map(|dir| dir.join(folder))).collect();
    let holds_data = |dir: &&PathBuf| find_file(dir, TRAIN_IMAGES, variable).is_ok();
    candidates.iter().find(holds_data).cloned().ok_or_else(|| {
        let mut searched: Vec<String> = Vec::new();
        for dir in &candidates {
            let shown = dir.display().to_string();
            if !searched.contains(&shown) {
                searched.push(shown);
            }
        }
        Error::DataNotFound {
            file: TRAIN_IMAGES.to_string(),
            searched: format!("{} (as .gz or raw)", searched.join(", ")),
            variable,
        }
    })
}

/// `name.gz`, else `name`, inside `dir`. Whatever is there is taken, so that a FIFO or a device
/// gets its own error from the reader rather than "not found".
fn find_file(dir: &Path, name: &str, variable: &'static str) -> Result<PathBuf> {
    let candidates = [dir.join(format!("{name}.gz")), dir.join(name)];
    candidates.iter().find(|p| p.exists()).cloned().ok_or_else(|| Error::DataNotFound {
        file: name.to_string(),
        searched: format!("{} (as .gz or raw)", dir.display()),
        variable,
    })
}
