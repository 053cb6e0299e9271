//! The IDX reader on the bundled data and on every kind of bad file.

use flate2::{Compression, write::GzEncoder};
use mnist_mlp::prelude::*;
use mnist_mlp::{BadLabel, IdxProblem, data::bundled_dir};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

fn images_file(count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut bytes = [2051u32, count, rows, cols].iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<_>>();
    bytes.extend_from_slice(pixels);
    bytes
}

fn labels_file(count: u32, labels: &[u8]) -> Vec<u8> {
    let mut bytes = [2049u32, count].iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<_>>();
    bytes.extend_from_slice(labels);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A valid tiny data set: 3 training and 2 test images; pixel value = image index × 40.
fn tiny_set() -> Vec<(&'static str, Vec<u8>)> {
    let pixels = |n: u8| (0..n).flat_map(|i| vec![i * 40; 784]).collect::<Vec<u8>>();
    vec![
        ("train-images-idx3-ubyte", images_file(3, 28, 28, &pixels(3))),
        ("train-labels-idx1-ubyte", labels_file(3, &[5, 0, 4])),
        ("t10k-images-idx3-ubyte", images_file(2, 28, 28, &pixels(2))),
        ("t10k-labels-idx1-ubyte", labels_file(2, &[7, 2])),
    ]
}

/// Writes `files` (gzip'd when `compress`) into a fresh temporary folder.
fn write_dir(files: &[(&str, Vec<u8>)], compress: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        let (path, content) = if compress {
            (dir.path().join(format!("{name}.gz")), gzip(bytes))
        } else {
            (dir.path().join(name), bytes.clone())
        };
        std::fs::write(path, content).unwrap();
    }
    dir
}

/// The tiny set with one file replaced.
fn with_file(name: &'static str, bytes: Vec<u8>) -> tempfile::TempDir {
    let mut files = tiny_set();
    files.iter_mut().find(|(n, _)| *n == name).unwrap().1 = bytes;
    write_dir(&files, true)
}

fn idx_problem(dir: &Path) -> (PathBuf, IdxProblem, String) {
    match Mnist::load_dir(dir) {
        Err(error @ Error::Idx { .. }) => {
            let message = error.to_string();
            let Error::Idx { path, problem } = error else { unreachable!() };
            (path, problem, message)
        }
        other => panic!("expected an IDX error, got {other:?}"),
    }
}

#[test]
fn bundled_mnist_has_the_documented_shapes_and_labels() {
    let data = Mnist::load_dir(bundled_dir().unwrap()).unwrap();
    assert_eq!(data.train_images.dims(), [60_000, 784]);
    assert_eq!(data.train_labels.dims(), [60_000]);
    assert_eq!(data.test_images.dims(), [10_000, 784]);
    assert_eq!(data.train_labels.dtype(), DType::U32);
    let pixels = data.train_images.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let (min, max) = pixels.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &p| (lo.min(p), hi.max(p)));
    assert_eq!((min, max), (0.0, 1.0));
    let first: Vec<u32> = data.train_labels.narrow(0, 0, 10).unwrap().to_vec1().unwrap();
    assert_eq!(first, [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    let mut counts = [0usize; 10];
    for label in data.test_labels.to_vec1::<u32>().unwrap() {
        counts[label as usize] += 1;
    }
    assert_eq!(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    assert_eq!(data.sha256.len(), 4, "every file was hashed");
}

#[test]
fn gzip_and_raw_files_give_the_same_tensors() {
    let (gz, raw) = (write_dir(&tiny_set(), true), write_dir(&tiny_set(), false));
    let (a, b) = (Mnist::load_dir(gz.path()).unwrap(), Mnist::load_dir(raw.path()).unwrap());
    let values = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(values(&a.train_images), values(&b.train_images));
    assert_eq!(values(&a.train_images)[784], 40.0 / 255.0);
    assert_eq!(a.test_labels.to_vec1::<u32>().unwrap(), [7, 2]);
    assert_eq!(a.sha256, b.sha256, "checksums are over the decompressed bytes");
}

#[test]
fn the_bundled_fashion_mnist_loads_with_the_same_reader_and_its_checksums() {
    let data = Mnist::fashion().unwrap();
    assert_eq!((data.train_len(), data.test_len()), (60_000, 10_000));
    assert!(data.dir.ends_with("data/fashion-mnist"), "{}", data.dir.display());
    assert_eq!(data.sha256.len(), 4);
    assert_eq!(data.train_labels.narrow(0, 0, 10).unwrap().to_vec1::<u32>().unwrap(), [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
}

#[test]
fn a_missing_fashion_mnist_names_its_own_variable() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "fashion_mnist_from_the_variable", "--nocapture", "--ignored"])
        .env("FASHION_MNIST_DIR", dir.path())
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains("FASHION_MNIST_DIR") && printed.contains(&dir.path().display().to_string()), "{printed}");
}

/// Run by the test above in a process of its own, so that setting the variable touches no other test.
#[test]
#[ignore]
fn fashion_mnist_from_the_variable() {
    println!("{}", Mnist::fashion().unwrap_err());
}

#[test]
fn a_missing_file_names_where_it_looked_and_mnist_dir() {
    let dir = tempfile::tempdir().unwrap();
    let message = Mnist::load_dir(dir.path()).unwrap_err().to_string();
    assert!(message.contains("train-images-idx3-ubyte"), "{message}");
    assert!(message.contains(&dir.path().display().to_string()), "{message}");
    assert!(message.contains("MNIST_DIR"), "{message}");
}

#[test]
fn a_wrong_magic_number_is_reported() {
    let mut bytes = images_file(3, 28, 28, &[0; 3 * 784]);
    bytes[3] = 0x01; // 2051 → 2049: a labels file where images belong
    let dir = with_file("train-images-idx3-ubyte", bytes);
    let (path, problem, message) = idx_problem(dir.path());
    assert!(path.ends_with("train-images-idx3-ubyte.gz"));
    assert!(matches!(problem, IdxProblem::BadMagic { found: 2049, .. }), "{message}");
}

#[test]
fn a_truncated_file_is_reported() {
    let dir = with_file("t10k-images-idx3-ubyte", images_file(2, 28, 28, &[0; 784 + 100]));
    let (path, problem, _) = idx_problem(dir.path());
    assert!(path.ends_with("t10k-images-idx3-ubyte.gz"));
    assert_eq!(problem, IdxProblem::Truncated { expected: 2 * 784, found: 884 });
}

#[test]
fn a_truncated_gzip_stream_is_reported() {
    let dir = write_dir(&tiny_set(), true);
    let path = dir.path().join("train-labels-idx1-ubyte.gz");
    let compressed = std::fs::read(&path).unwrap();
    std::fs::write(&path, &compressed[..compressed.len() / 2]).unwrap();
    let (bad, problem, _) = idx_problem(dir.path());
    assert_eq!(bad, path);
    assert!(matches!(problem, IdxProblem::Gzip(_) | IdxProblem::Truncated { .. }), "{problem}");
}

#[test]
fn image_and_label_counts_must_match() {
    let dir = with_file("train-labels-idx1-ubyte", labels_file(2, &[1, 2]));
    let message = Mnist::load_dir(dir.path()).unwrap_err().to_string();
    assert!(matches!(Mnist::load_dir(dir.path()), Err(Error::CountMismatch { image_count: 3, label_count: 2, .. })));
    assert!(message.contains("train-images-idx3-ubyte.gz") && message.contains("train-labels-idx1-ubyte.gz"));
}

#[test]
fn images_other_than_28_by_28_are_rejected() {
    let dir = with_file("train-images-idx3-ubyte", images_file(3, 32, 32, &[0; 3 * 1024]));
    let (_, problem, message) = idx_problem(dir.path());
    assert_eq!(problem, IdxProblem::BadDimensions { rows: 32, cols: 32 });
    assert!(message.contains("32×32"), "{message}");
}

#[test]
fn a_header_promising_more_than_mnist_holds_is_refused_before_reading_on() {
    // 4 billion images would be 3.4 TB; no MNIST file holds more than 60,000.
    for count in [u32::MAX, 60_001] {
        let dir = with_file("train-images-idx3-ubyte", images_file(count, 28, 28, &[0; 784]));
        let (_, problem, message) = idx_problem(dir.path());
        assert_eq!(problem, IdxProblem::TooMany { kind: "images", count, max: 60_000 });
        assert!(message.contains("at most 60000"), "{message}");
    }
    let dir = with_file("t10k-labels-idx1-ubyte", labels_file(1_000_000, &[1; 2]));
    assert!(matches!(idx_problem(dir.path()).1, IdxProblem::TooMany { kind: "labels", count: 1_000_000, .. }));
}

#[test]
fn a_file_holding_no_items_is_refused_naming_it() {
    let dir = with_file("t10k-images-idx3-ubyte", images_file(0, 28, 28, &[]));
    let (path, problem, message) = idx_problem(dir.path());
    assert!(path.ends_with("t10k-images-idx3-ubyte.gz"), "{message}");
    assert_eq!(problem, IdxProblem::Empty { kind: "images" });
    assert!(message.contains("holds no images"), "{message}");
}

#[test]
fn a_label_outside_0_to_9_is_rejected() {
    let dir = with_file("t10k-labels-idx1-ubyte", labels_file(2, &[7, 12]));
    let (_, problem, _) = idx_problem(dir.path());
    assert_eq!(problem, IdxProblem::BadLabel(BadLabel { index: 1, label: 12 }));
}

#[test]
fn trailing_bytes_are_rejected() {
    let dir = with_file("t10k-labels-idx1-ubyte", labels_file(2, &[7, 2, 9]));
    let (_, problem, _) = idx_problem(dir.path());
    assert_eq!(problem, IdxProblem::TrailingBytes { expected: 2, extra: 1 });
}

#[test]
fn a_checksum_mismatch_names_both_digests() {
    let dir = write_dir(&tiny_set(), true);
    let real = hex(&Sha256::digest(&tiny_set()[1].1));
    let wrong = "0".repeat(64);
    let sums = format!("{wrong}  train-images-idx3-ubyte\n{real}  train-labels-idx1-ubyte\n");
    std::fs::write(dir.path().join("SHA256SUMS"), sums).unwrap();
    match Mnist::load_dir(dir.path()) {
        Err(error @ Error::Checksum { .. }) => {
            let message = error.to_string();
            assert!(message.contains(&wrong) && message.contains("train-images-idx3-ubyte.gz"), "{message}");
            let Error::Checksum { actual, .. } = error else { unreachable!() };
            assert_eq!(actual, hex(&Sha256::digest(&tiny_set()[0].1)));
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
}

#[test]
fn matching_checksums_load() {
    let dir = write_dir(&tiny_set(), true);
    let sums: String =
        tiny_set().iter().map(|(name, bytes)| format!("{}  {name}\n", hex(&Sha256::digest(bytes)))).collect();
    std::fs::write(dir.path().join("SHA256SUMS"), sums).unwrap();
    assert_eq!(Mnist::load_dir(dir.path()).unwrap().train_len(), 3);
}

/// The tiny set gzip'd, with `SHA256SUMS` holding `sums`.
fn with_checksums(sums: &str) -> tempfile::TempDir {
    let dir = write_dir(&tiny_set(), true);
    std::fs::write(dir.path().join("SHA256SUMS"), sums).unwrap();
    dir
}

fn raw_digest(index: usize) -> String {
    hex(&Sha256::digest(&tiny_set()[index].1))
}

fn stored_digest(dir: &Path, name: &str) -> String {
    hex(&Sha256::digest(std::fs::read(dir.join(format!("{name}.gz"))).unwrap()))
}

#[test]
fn checksum_lines_in_the_forms_sha256sum_writes_are_all_checked() {
    let wrong = "0".repeat(64);
    // `./name`, binary mode `*name`, `--tag` form: a wrong digest in each is caught.
    for line in [
        format!("{wrong}  ./train-labels-idx1-ubyte"),
        format!("{wrong} *train-labels-idx1-ubyte"),
        format!("SHA256 (train-labels-idx1-ubyte) = {wrong}"),
        format!("{}  train-labels-idx1-ubyte\r", wrong.to_uppercase()),
    ] {
        let dir = with_checksums(&format!("{line}\n"));
        let error = Mnist::load_dir(dir.path()).unwrap_err();
        assert!(matches!(error, Error::Checksum { .. }), "{line}: {error}");
        assert!(error.to_string().contains("train-labels-idx1-ubyte.gz"), "{error}");
    }
    let dir = with_checksums(&format!("{}  ./train-labels-idx1-ubyte\n", raw_digest(1)));
    assert_eq!(Mnist::load_dir(dir.path()).unwrap().train_len(), 3);
}

#[test]
fn a_checksum_of_the_gzip_file_as_stored_is_checked_against_it() {
    // What `sha256sum *.gz` writes: digests of the compressed files.
    let dir = write_dir(&tiny_set(), true);
    let good = stored_digest(dir.path(), "t10k-images-idx3-ubyte");
    std::fs::write(dir.path().join("SHA256SUMS"), format!("{good}  t10k-images-idx3-ubyte.gz\n")).unwrap();
    assert_eq!(Mnist::load_dir(dir.path()).unwrap().test_len(), 2);

    let wrong = raw_digest(2); // the decompressed bytes' digest, listed for the .gz
    std::fs::write(dir.path().join("SHA256SUMS"), format!("{wrong}  t10k-images-idx3-ubyte.gz\n")).unwrap();
    match Mnist::load_dir(dir.path()) {
        Err(Error::Checksum { path, actual, .. }) => {
            assert!(path.ends_with("t10k-images-idx3-ubyte.gz"));
            assert_eq!(actual, good);
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
}

#[test]
fn a_checksum_file_that_verifies_none_of_the_data_is_an_error() {
    for sums in
        [format!("{}  other-file.bin\n", raw_digest(0)), format!("{}  mnist/train-images-idx3-ubyte\n", raw_digest(0))]
    {
        let dir = with_checksums(&sums);
        let message = Mnist::load_dir(dir.path()).unwrap_err().to_string();
        assert!(message.contains("SHA256SUMS") && message.contains("verified none"), "{message}");
    }
    let dir = with_checksums("not a checksum line\n");
    let message = Mnist::load_dir(dir.path()).unwrap_err().to_string();
    assert!(message.contains("SHA256SUMS") && message.contains("line 1"), "{message}");
}

#[test]
fn the_bundled_copy_is_found_at_run_time_above_the_program() {
    // This test's executable lies in the checkout's target/ folder: data/mnist is found above it.
    let dir = bundled_dir().unwrap();
    assert!(dir.ends_with("data/mnist") && dir.join("train-images-idx3-ubyte.gz").is_file(), "{}", dir.display());
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    assert_eq!(dir.canonicalize().unwrap(), checkout.join("data/mnist"));
}

#[test]
fn an_explicit_folder_is_read_as_given() {
    let dir = write_dir(&tiny_set(), false);
    let data = Mnist::load_dir(dir.path()).unwrap();
    assert_eq!(data.dir, dir.path());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(feature = "hub")]
#[test]
fn identical_to_candle_datasets_load_dir() {
    // candle-datasets reads raw (not gzip'd) files, so decompress the bundled copy first.
    let dir = tempfile::tempdir().unwrap();
    for name in
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    {
        let mut raw = Vec::new();
        let file = std::fs::File::open(bundled_dir().unwrap().join(format!("{name}.gz"))).unwrap();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(file), &mut raw).unwrap();
        std::fs::write(dir.path().join(name), raw).unwrap();
    }
    let ours = Mnist::load_dir(bundled_dir().unwrap()).unwrap();
    let theirs = candle_datasets::vision::mnist::load_dir(dir.path()).unwrap();
    let same = |a: &Tensor, b: &Tensor| {
        let b = b.to_dtype(a.dtype()).unwrap();
        assert_eq!(a.dims(), b.dims());
        assert_eq!(
            a.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            b.flatten_all().unwrap().to_vec1::<f32>().unwrap()
        );
    };
    same(&ours.train_images, &theirs.train_images);
    same(&ours.test_images, &theirs.test_images);
    let labels = |t: &Tensor| t.to_dtype(DType::U32).unwrap().to_vec1::<u32>().unwrap();
    assert_eq!(labels(&ours.train_labels), labels(&theirs.train_labels));
    assert_eq!(labels(&ours.test_labels), labels(&theirs.test_labels));
}
