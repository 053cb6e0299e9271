//! The `mnist` binary end to end: train, evaluate, predict, and one-line errors.

use std::process::{Command, Output};

fn mnist(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mnist")).args(args).env_remove("MNIST_DIR").output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A failed run exits non-zero with exactly one line on stderr.
fn one_line_error(output: &Output) -> String {
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

#[test]
fn train_then_evaluate_then_predict() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let trained = mnist(&["train", "--epochs", "1", "--seed", "3", "--out", out]);
    assert!(trained.status.success(), "{}", String::from_utf8_lossy(&trained.stderr));
    let text = stdout(&trained);
    let accuracy: f32 = text.lines().find_map(|l| l.strip_prefix("test accuracy: ")).unwrap().parse().unwrap();
    assert!(accuracy > 0.95, "{text}");
    assert!(text.contains("epoch 1: loss"), "epoch lines show in a log, without a terminal: {text}");
    assert!(text.starts_with("model: 784 → 128 → 64 → 10, seed 3 (109386 parameters)"), "{text}");

    let evaluated = stdout(&mnist(&["evaluate", "--model", out]));
    assert!(evaluated.contains(&format!("test accuracy: {accuracy:.4}")), "{evaluated}");

    let predicted = mnist(&["predict", "--model", out, "--index", "0"]);
    let text = stdout(&predicted);
    assert!(predicted.status.success());
    assert!(text.contains("logits:") && text.contains("probabilities:"), "{text}");
    assert!(text.contains("predicted digit: 7, true label: 7"), "{text}");
    let index_error = one_line_error(&mnist(&["predict", "--model", out, "--index", "10000"]));
    assert!(index_error.contains("out of range 0–9999"), "{index_error}");

    // Own images: the good ones are predicted even when another file is bad.
    let images = concat!(env!("CARGO_MANIFEST_DIR"), "/../../notebooks/images");
    let (good, bad) = (format!("{images}/3-off-centre.png"), dir.path().join("notes.png"));
    std::fs::write(&bad, "not a picture").unwrap();
    let files = mnist(&["predict", "--model", out, &good, bad.to_str().unwrap()]);
    let message = one_line_error(&files);
    assert!(message.contains("notes.png") && message.contains("not an image"), "{message}");
    let text = stdout(&files);
    assert!(text.starts_with(&format!("{good}: 3 (top 3: 3 ")), "{text}");
    let json = stdout(&mnist(&["predict", "--model", out, "--json", &good, &format!("{images}/7-large-scan.png")]));
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    let digits: Vec<u64> = parsed.as_array().unwrap().iter().map(|p| p["digit"].as_u64().unwrap()).collect();
    assert_eq!(digits, [3, 7]);
    assert_eq!(parsed[0]["probabilities"].as_array().unwrap().len(), 10);
}

#[test]
fn a_missing_data_folder_is_one_line_naming_mnist_dir() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model");
    let output = mnist(&["train", "--data", dir.path().to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let message = one_line_error(&output);
    assert!(message.contains("MNIST_DIR") && message.contains(dir.path().to_str().unwrap()), "{message}");
    assert!(!out.exists(), "nothing is written when training never started");
}

#[test]
fn an_impossible_batch_size_is_one_line_with_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let output = mnist(&["train", "--batch-size", "0", "--out", dir.path().to_str().unwrap()]);
    assert!(one_line_error(&output).contains("between 1 and the 60000"));
}

#[test]
fn a_missing_model_folder_is_one_line() {
    let output = mnist(&["evaluate", "--model", "/nonexistent/model"]);
    assert!(one_line_error(&output).contains("/nonexistent/model/config.json"));
}

#[test]
fn a_learning_rate_that_kills_learning_gets_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let output = mnist(&["train", "--epochs", "1", "--learning-rate", "10", "--out", dir.path().to_str().unwrap()]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: training learned nothing") && stderr.contains("smaller learning rate"),
        "{stderr}"
    );
}

#[test]
fn ctrl_c_stops_after_the_current_step_and_saves_the_model_marked_interrupted() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mnist"))
        .args(["train", "--epochs", "100", "--out", dir.path().to_str().unwrap()])
        .env_remove("MNIST_DIR")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the first epoch has finished.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(lines.next().unwrap().unwrap().starts_with("model: 784 → 128 → 64 → 10, seed 42"));
    assert!(lines.next().unwrap().unwrap().starts_with("epoch 1:"));
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest:?}");
    assert!(rest.iter().any(|l| l.starts_with("interrupted: saved")), "{rest:?}");
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(card["history"]["interrupted"], true);
    let epochs = card["history"]["epochs"].as_array().unwrap().len();
    assert!((2..100).contains(&epochs), "stopped early, after the first epoch: {epochs}");
    let evaluated = mnist(&["evaluate", "--model", dir.path().to_str().unwrap()]);
    assert!(evaluated.status.success(), "the saved model loads");
}

/// Trains `hidden` for one epoch into a fresh folder; the test accuracy it printed, the folder,
/// and what `evaluate` prints for the saved model.
fn train_and_evaluate(hidden: &str) -> (f32, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let trained = mnist(&["train", "--hidden", hidden, "--epochs", "1", "--out", out]);
    assert!(trained.status.success(), "{}", String::from_utf8_lossy(&trained.stderr));
    let text = stdout(&trained);
    let accuracy = text.lines().find_map(|l| l.strip_prefix("test accuracy: ")).unwrap().parse().unwrap();
    let evaluated = stdout(&mnist(&["evaluate", "--model", out]));
    (accuracy, dir, evaluated)
}

#[test]
fn hidden_sets_the_architecture_which_is_saved_and_reloaded() {
    for (hidden, sizes, floor) in [("none", vec![], 0.88), ("64,64,64", vec![64, 64, 64], 0.93)] {
        let (accuracy, dir, evaluated) = train_and_evaluate(hidden);
        assert!(accuracy > floor, "--hidden {hidden}: {accuracy}");
        assert!(evaluated.contains(&format!("test accuracy: {accuracy:.4}")), "--hidden {hidden}: {evaluated}");
        let card: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap()).unwrap();
        assert_eq!(card["model"]["hidden"], serde_json::json!(sizes));
        assert_eq!(card["model"]["seed"], 42);
    }
}

#[test]
fn a_hidden_size_that_is_not_a_number_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = mnist(&["train", "--hidden", "128,x", "--out", dir.path().to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`x` is not a number of units"), "{stderr}");
    let output = mnist(&["train", "--hidden", "128,0", "--out", dir.path().to_str().unwrap()]);
    assert!(one_line_error(&output).contains("hidden layer 2 has 0 units"));
}

#[test]
fn an_installed_binary_finds_the_bundled_data_from_the_checkout_or_says_where_it_looked() {
    let elsewhere = tempfile::tempdir().unwrap();
    let installed = elsewhere.path().join("mnist");
    std::fs::copy(env!("CARGO_BIN_EXE_mnist"), &installed).unwrap();
    let run = |cwd: &std::path::Path| {
        Command::new(&installed)
            .args(["train", "--batch-size", "0", "--out", elsewhere.path().join("model").to_str().unwrap()])
            .current_dir(cwd)
            .env_remove("MNIST_DIR")
            .output()
            .unwrap()
    };
    // Run from the checkout: the data is found (and the next check, the batch size, speaks).
    let checkout = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    assert!(one_line_error(&run(std::path::Path::new(checkout))).contains("between 1 and the 60000"));
    // Run from elsewhere: one line naming the places it looked and MNIST_DIR.
    let message = one_line_error(&run(elsewhere.path()));
    let looked = elsewhere.path().join("data/mnist").display().to_string();
    assert!(message.contains("not found") && message.contains(&looked) && message.contains("MNIST_DIR"), "{message}");
}
