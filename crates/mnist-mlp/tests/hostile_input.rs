//! Input files that are not what they claim: FIFOs, devices, files larger than their kind can be,
//! truncated JPEGs, weights that overflow. Each gets one clear error naming the file, at once.

use mnist_mlp::eval::ConfusionMatrix;
use mnist_mlp::image::{predict_file, read as open};
use mnist_mlp::model::{CONFIG_FILE, WEIGHTS_FILE};
use mnist_mlp::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on its own thread and fails the test if it has not returned within 10 seconds
/// (a FIFO opened for reading blocks until a writer comes, forever in these tests).
fn within_10_s<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || sender.send(f()));
    receiver.recv_timeout(Duration::from_secs(10)).unwrap_or_else(|_| panic!("{what}: no answer within 10 s"))
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../notebooks/images")
}

/// A saved model (1 epoch on a small subset), shared by the tests that need one.
fn model_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let data = Mnist::load().unwrap().subset(2_000, 100).unwrap();
        let config = TrainConfig { epochs: 1, ..Default::default() };
        let mut model = MlpConfig::default().with_seed(1).init(&Device::Cpu).unwrap();
        let history = train(&mut model, &data, &config, |_| {}).unwrap();
        model.save(dir.path().join("model"), &ModelCard::new(&model, &config, &data, &history)).unwrap();
        dir
    })
    .path()
}

/// A copy of the shared model in a fresh folder, to damage.
fn model_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in [CONFIG_FILE, WEIGHTS_FILE] {
        std::fs::copy(model_dir().join("model").join(name), dir.path().join(name)).unwrap();
    }
    dir
}

fn load_error(dir: &Path) -> String {
    let dir = dir.to_path_buf();
    within_10_s("loading the model", move || Mlp::load(&dir, &Device::Cpu).map(drop)).unwrap_err().to_string()
}

#[test]
fn a_fifo_in_place_of_any_input_file_is_refused_without_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let picture = dir.path().join("f.png");
    mkfifo(&picture);
    let message = within_10_s("a FIFO as a picture", move || open(&picture).map(drop)).unwrap_err().to_string();
    assert!(message.contains("f.png") && message.contains("FIFO"), "{message}");

    for name in [CONFIG_FILE, WEIGHTS_FILE] {
        let model = model_copy();
        std::fs::remove_file(model.path().join(name)).unwrap();
        mkfifo(&model.path().join(name));
        let message = load_error(model.path());
        assert!(message.contains(name) && message.contains("FIFO"), "{message}");
    }

    for name in ["SHA256SUMS", "train-labels-idx1-ubyte.gz"] {
        let data = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(mnist_mlp::data::bundled_dir().unwrap()).unwrap() {
            let entry = entry.unwrap();
            if entry.file_name() != name {
                std::os::unix::fs::symlink(entry.path(), data.path().join(entry.file_name())).unwrap();
            }
        }
        mkfifo(&data.path().join(name));
        let folder = data.path().to_path_buf();
        let message = within_10_s(name, move || Mnist::load_dir(folder).map(drop)).unwrap_err().to_string();
        assert!(message.contains(name) && message.contains("FIFO"), "a FIFO is not 'not found': {message}");
    }
}

#[test]
fn a_device_that_streams_forever_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let picture = dir.path().join("x.png");
    std::os::unix::fs::symlink("/dev/zero", &picture).unwrap();
    let message = within_10_s("/dev/zero as a picture", move || open(&picture).map(drop)).unwrap_err().to_string();
    assert!(message.contains("x.png") && message.contains("character device"), "{message}");

    let model = model_copy();
    std::fs::remove_file(model.path().join(CONFIG_FILE)).unwrap();
    std::os::unix::fs::symlink("/dev/zero", model.path().join(CONFIG_FILE)).unwrap();
    let message = load_error(model.path());
    assert!(message.contains(CONFIG_FILE) && message.contains("character device"), "{message}");
}

#[test]
fn a_file_larger_than_its_kind_can_be_is_refused_unread() {
    // A sparse 3 GB file costs no disk; reading it would cost 3 GB of memory.
    let model = model_copy();
    std::fs::File::options().write(true).open(model.path().join(WEIGHTS_FILE)).unwrap().set_len(3 << 30).unwrap();
    let message = load_error(model.path());
    assert!(message.contains(WEIGHTS_FILE) && message.contains("too large: 3221225472 bytes"), "{message}");

    let dir = tempfile::tempdir().unwrap();
    let sums = dir.path().join("SHA256SUMS");
    std::fs::File::create(&sums).unwrap().set_len(2 << 20).unwrap();
    let message = Mnist::load_dir(dir.path()).unwrap_err().to_string();
    assert!(message.contains("SHA256SUMS") && message.contains("too large"), "{message}");
}

#[test]
fn a_file_that_reports_a_smaller_size_than_it_holds_is_cut_off_at_the_limit() {
    // /proc files report 0 bytes whatever they hold; the limit is checked on the bytes read.
    let limit = mnist_mlp::testing::CONFIG.with_max(100);
    let path = Path::new("/proc/self/maps");
    let message = mnist_mlp::testing::read_limited(path, limit).unwrap_err().to_string();
    assert!(message.contains("/proc/self/maps") && message.contains("at most 100 bytes"), "{message}");
}

#[test]
fn a_truncated_or_corrupt_jpeg_is_refused() {
    let original = std::fs::read(samples().join("0-blue-ink-yellow-paper.jpg")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cases = vec![("t.jpg", original[..1516].to_vec())];
    for fraction in [4, 2] {
        cases.push(("part.jpg", original[..original.len() * (fraction - 1) / fraction].to_vec()));
    }
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let message = open(&path).map(drop).unwrap_err().to_string();
        assert!(message.contains(name) && message.contains("cannot be decoded"), "{} bytes: {message}", bytes.len());
    }
    // The whole file still reads, as every sample image does.
    let image = open(samples().join("0-blue-ink-yellow-paper.jpg")).unwrap();
    assert!(image.width() > 28);
}

/// A PNG of a `width`×`height` picture of `bit_depth`-bit RGBA whose pixel data is cut short:
/// enough for a decoder to read the header and decide whether to go on.
fn png_header(width: u32, height: u32, bit_depth: u8) -> Vec<u8> {
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        [&(data.len() as u32).to_be_bytes()[..], kind, data, &crc.sum().to_be_bytes()].concat()
    };
    let header = [&width.to_be_bytes()[..], &height.to_be_bytes(), &[bit_depth, 6, 0, 0, 0]].concat();
    let pixels = {
        use std::io::Write;
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&[0; 64]).unwrap();
        encoder.finish().unwrap()
    };
    [&b"\x89PNG\r\n\x1a\n"[..], &chunk(b"IHDR", &header), &chunk(b"IDAT", &pixels), &chunk(b"IEND", &[])].concat()
}

#[test]
fn a_too_large_picture_is_refused_by_the_rule_that_refused_it() {
    let dir = tempfile::tempdir().unwrap();
    let (memory, pixels) = (dir.path().join("deep.png"), dir.path().join("wide.png"));
    std::fs::write(&memory, png_header(9_999, 9_999, 16)).unwrap();
    std::fs::write(&pixels, png_header(10_001, 10, 8)).unwrap();
    let message = open(&memory).map(drop).unwrap_err().to_string();
    assert!(message.contains("9999×9999") && message.contains("more than the 512 MB allowed"), "{message}");
    let message = open(&pixels).map(drop).unwrap_err().to_string();
    assert!(message.contains("up to 10000×10000 pixels"), "{message}");
}

#[test]
fn weights_so_large_the_output_overflows_give_no_prediction() {
    let (model, _) = Mlp::load(model_dir().join("model"), &Device::Cpu).unwrap();
    for var in model.vars().all_vars() {
        var.set(&Tensor::full(3e38f32, var.shape(), &Device::Cpu).unwrap()).unwrap();
    }
    let picture = samples().join("3-off-centre.png");
    let message = predict_file(&model, &picture).map(drop).unwrap_err().to_string();
    assert!(message.contains("3-off-centre.png") && message.contains("not a probability"), "{message}");
}

#[test]
fn a_confusion_matrix_of_non_digits_or_unequal_lengths_is_an_error() {
    let bad_label = ConfusionMatrix::new(&[0, 10], &[0, 1]).unwrap_err().to_string();
    assert!(bad_label.contains("label 10 at index 1"), "{bad_label}");
    let bad_prediction = ConfusionMatrix::new(&[0, 1], &[99, 1]).unwrap_err().to_string();
    assert!(bad_prediction.contains("label 99 at index 0"), "{bad_prediction}");
    let unequal = ConfusionMatrix::new(&[0, 1], &[0]).unwrap_err().to_string();
    assert!(unequal.contains("2 labels but 1 predictions"), "{unequal}");
    let fine = ConfusionMatrix::new(&[3, 3, 5], &[3, 5, 5]).unwrap();
    assert_eq!((fine.counts[3][3], fine.counts[3][5], fine.counts[5][5]), (1, 1, 1));
}
