//! The `mnist` binary against a careless user and a hostile one: failing output, bad targets,
//! odd file names, damaged models, empty data, signals.

use mnist_mlp::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn mnist() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mnist"));
    command.env_remove("MNIST_DIR");
    command
}

fn run(args: &[&str]) -> Output {
    mnist().args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Trains a quick model (1 epoch, batch 600: 100 steps) into `dir/model`.
fn trained(dir: &Path) -> PathBuf {
    let model = dir.join("model");
    let output = run(&["train", "--epochs", "1", "--batch-size", "600", "--out", model.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    model
}

fn sample(name: &str) -> String {
    format!("{}/../../notebooks/images/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn assert_loads(model: &Path) {
    Mlp::load(model, &Device::Cpu).unwrap_or_else(|e| panic!("the model was not saved whole: {e}"));
}

#[test]
fn a_closed_pipe_on_stdout_ends_quietly_and_the_model_is_still_saved() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    let out = model.to_str().unwrap();
    let picture = sample("3-off-centre.png");
    for args in [
        vec!["train", "--epochs", "2", "--batch-size", "600", "--out", out],
        vec!["predict", "--model", out, "--index", "0"],
        vec!["predict", "--model", out, &picture, &picture],
    ] {
        let mut child = mnist().args(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        drop(child.stdout.take()); // `| head -0`: the reader is gone before the first line
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{args:?}: {}", text(&output.stderr));
        assert_eq!(text(&output.stderr), "", "{args:?}: quiet, no panic");
        assert_loads(&model);
    }
}

#[test]
fn a_full_device_on_stdout_is_one_error_and_the_model_is_still_saved() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    let full = std::fs::File::options().write(true).open("/dev/full").unwrap();
    let output = mnist()
        .args(["train", "--epochs", "1", "--batch-size", "600", "--out", model.to_str().unwrap()])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        ["error: cannot write to standard output: No space left on device (os error 28)"]
    );
    assert_loads(&model);
}

#[test]
fn an_unusable_out_is_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("passwd");
    std::fs::write(&file, "root:x:0:0").unwrap();
    let other = dir.path().join("documents");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("thesis.tex"), "").unwrap();
    for (out, expected) in [
        (file.clone(), "is not a folder"),
        (file.join("model"), "is not a folder"),
        (other.clone(), "holds other files (`thesis.tex`)"),
    ] {
        let output = run(&["train", "--epochs", "50", "--out", out.to_str().unwrap()]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(text(&output.stdout), "", "no training: {}", text(&output.stdout));
        assert!(stderr.starts_with("error: ") && stderr.contains(expected), "{stderr}");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "root:x:0:0");
}

#[test]
fn json_output_survives_a_file_name_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let model = trained(dir.path());
    let odd = dir.path().join(std::ffi::OsStr::from_bytes(b"a\xff.png"));
    std::fs::copy(sample("3-off-centre.png"), &odd).unwrap();
    let output = mnist()
        .arg("predict")
        .arg("--model")
        .arg(&model)
        .arg("--json")
        .arg(&odd)
        .arg(sample("7-large-scan.png"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let parsed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let files: Vec<&str> = parsed.as_array().unwrap().iter().map(|p| p["file"].as_str().unwrap()).collect();
    assert_eq!(files.len(), 2);
    assert!(files[0].ends_with("a\u{FFFD}.png"), "{files:?}");
}

#[test]
fn weights_that_overflow_give_an_error_not_a_nan_prediction() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = trained(dir.path());
    let (model, card) = Mlp::load(&model_dir, &Device::Cpu).unwrap();
    for var in model.vars().all_vars() {
        var.set(&Tensor::full(3e38f32, var.shape(), &Device::Cpu).unwrap()).unwrap();
    }
    model.save(&model_dir, &card).unwrap();
    let out = model_dir.to_str().unwrap();
    let picture = sample("3-off-centre.png");
    for args in [
        vec!["predict", "--model", out, "--index", "0"],
        vec!["evaluate", "--model", out],
        vec!["predict", "--model", out, &picture],
        vec!["predict", "--model", out, "--json", &picture],
    ] {
        let output = run(&args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {}", text(&output.stdout));
        assert!(stderr.contains("not finite") || stderr.contains("not a probability"), "{args:?}: {stderr}");
        assert!(!text(&output.stdout).contains("NaN"), "{args:?}: {}", text(&output.stdout));
    }
}

/// The bundled data with the test set replaced by files that hold no images and no labels.
fn empty_test_set() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"] {
        std::os::unix::fs::symlink(mnist_mlp::data::bundled_dir().unwrap().join(name), dir.path().join(name)).unwrap();
    }
    let header = |fields: &[u32]| fields.iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>();
    std::fs::write(dir.path().join("t10k-images-idx3-ubyte"), header(&[2051, 0, 28, 28])).unwrap();
    std::fs::write(dir.path().join("t10k-labels-idx1-ubyte"), header(&[2049, 0])).unwrap();
    dir
}

#[test]
fn an_empty_test_set_is_refused_before_training_naming_the_file() {
    let data = empty_test_set();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model");
    let data_arg = data.path().to_str().unwrap();
    let output = run(&["train", "--data", data_arg, "--epochs", "1", "--out", out.to_str().unwrap()]);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("t10k-images-idx3-ubyte: holds no images"), "{stderr}");
    assert_eq!(text(&output.stdout), "", "refused before training");

    let model = trained(dir.path());
    let output = run(&["predict", "--model", model.to_str().unwrap(), "--data", data_arg, "--index", "0"]);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("holds no images") && !stderr.contains("18446744073709551615"), "{stderr}");
}

#[test]
fn sigterm_and_sighup_stop_and_save_like_ctrl_c() {
    use std::io::{BufRead, BufReader};
    for signal in ["TERM", "HUP"] {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("model");
        let mut child = mnist()
            .args(["train", "--epochs", "100", "--batch-size", "600", "--out", model.to_str().unwrap()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert!(lines.any(|line| line.unwrap().starts_with("epoch 1:")), "{signal}: no epoch finished");
        let killed = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
        assert!(killed.success());
        let rest: Vec<String> = lines.map(Result::unwrap).collect();
        assert_eq!(child.wait().unwrap().code(), Some(130), "{signal}: {rest:?}");
        assert!(rest.iter().any(|l| l.starts_with("interrupted: saved")), "{signal}: {rest:?}");
        let (_, card) = Mlp::load(&model, &Device::Cpu).unwrap();
        assert!(card.history.interrupted, "{signal}");
    }
}

#[test]
fn the_learned_nothing_warning_gives_the_advice_that_fits() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model");
    for (args, advice) in [
        (["--learning-rate", "1e-45", "--batch-size", "6000"], "larger learning rate"),
        (["--batch-size", "60000", "--learning-rate", "0.001"], "smaller batch size"),
    ] {
        let output =
            mnist().args(["train", "--epochs", "1", "--out", out.to_str().unwrap()]).args(args).output().unwrap();
        let stderr = text(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(stderr.contains("learned nothing") && stderr.contains(advice), "{args:?}: {stderr}");
        assert!(!stderr.contains("smaller learning rate"), "{args:?}: {stderr}");
    }
}

/// The most threads `child` had at once, read from /proc while it runs; then its output.
#[cfg(target_os = "linux")]
fn peak_threads(mut child: std::process::Child) -> (usize, Output) {
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        let status = std::fs::read_to_string(&status_file).unwrap_or_default();
        let threads = status.lines().find_map(|l| l.strip_prefix("Threads:")).and_then(|n| n.trim().parse().ok());
        peak = peak.max(threads.unwrap_or(0));
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    (peak, child.wait_with_output().unwrap())
}

#[cfg(target_os = "linux")]
#[test]
fn a_huge_rayon_num_threads_starts_no_more_threads_than_cores() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained(dir.path());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let child = mnist()
        .args(["evaluate", "--model", model.to_str().unwrap()])
        .env("RAYON_NUM_THREADS", "10000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (peak, output) = peak_threads(child);
    assert!(output.status.success(), "{}", text(&output.stderr));
    // The main thread, a pool of at most one thread per core, and a few of the runtime's own.
    assert!(peak <= 2 * cores + 8, "{peak} threads at once on {cores} cores");
}
