//! A save is one unit: concurrent writers, a writer killed at any moment, or a full disk leave
//! the old model or the new one, never a mix, and no temporary files behind.

use mnist_mlp::data::IMAGE_PIXELS;
use mnist_mlp::model::{CONFIG_FILE, WEIGHTS_FILE, check_save_target};
use mnist_mlp::prelude::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A model card for `model`, without loading any data.
fn card(model: &Mlp) -> ModelCard {
    let zeros = |n: usize| Tensor::zeros(n, DType::U32, &Device::Cpu).unwrap();
    let images = Tensor::zeros((1, IMAGE_PIXELS), DType::F32, &Device::Cpu).unwrap();
    let data = Mnist {
        train_images: images.clone(),
        train_labels: zeros(1),
        test_images: images,
        test_labels: zeros(1),
        dir: PathBuf::new(),
        sha256: BTreeMap::new(),
    };
    ModelCard::new(model, &TrainConfig::default(), &data, &History::default())
}

fn model(seed: u64) -> Mlp {
    MlpConfig::default().with_seed(seed).init(&Device::Cpu).unwrap()
}

fn save_seed(seed: u64, dir: &Path) -> Result<()> {
    let model = model(seed);
    model.save(dir, &card(&model))
}

/// Loads `dir` and checks its weights are those of the seed its config names: never a mix.
fn loaded_seed(dir: &Path) -> u64 {
    let (loaded, card) = Mlp::load(dir, &Device::Cpu).unwrap_or_else(|e| panic!("the saved model does not load: {e}"));
    let seed = card.model.seed;
    let values = |m: &Mlp| -> Vec<Vec<f32>> {
        m.parameters().iter().map(|(_, t)| t.flatten_all().unwrap().to_vec1().unwrap()).collect()
    };
    assert!(values(&loaded) == values(&model(seed)), "config.json says seed {seed}, the weights differ");
    seed
}

/// What `parent` holds besides `keep`: temporary folders left behind.
fn leftovers(parent: &Path, keep: &str) -> Vec<String> {
    let names = std::fs::read_dir(parent).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned());
    names.filter(|n| n != keep).collect()
}

#[test]
fn a_load_while_two_writers_save_gets_one_whole_model() {
    let parent = tempfile::tempdir().unwrap();
    let target = parent.path().join("model");
    save_seed(1, &target).unwrap();
    let saving = std::sync::atomic::AtomicUsize::new(2);
    let loads = std::thread::scope(|scope| {
        for seed in [1, 2] {
            let (target, saving) = (&target, &saving);
            scope.spawn(move || {
                for _ in 0..40 {
                    save_seed(seed, target).unwrap();
                }
                saving.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            });
        }
        let mut loads = 0;
        while saving.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            loaded_seed(&target);
            loads += 1;
        }
        loads
    });
    assert!(loads > 0);
}

#[test]
fn two_writers_saving_into_one_folder_leave_one_whole_model() {
    let parent = tempfile::tempdir().unwrap();
    let target = parent.path().join("model");
    std::thread::scope(|scope| {
        for seed in [1, 2] {
            let target = &target;
            scope.spawn(move || {
                for _ in 0..15 {
                    save_seed(seed, target).unwrap();
                }
            });
        }
    });
    assert!([1, 2].contains(&loaded_seed(&target)));
    assert_eq!(leftovers(parent.path(), "model"), Vec::<String>::new());
}

/// Run by the tests below as a child process, with `SAVE_TARGET` set: saves seeds 1 and 2 in
/// turn, forever (`SAVE_ONCE` unset) or once, printing a line before each save.
#[test]
#[ignore = "a child process of the tests below"]
fn child_saving() {
    let Some(target) = std::env::var_os("SAVE_TARGET") else { return };
    let once = std::env::var_os("SAVE_ONCE").is_some();
    for seed in [2, 1].into_iter().cycle() {
        println!("saving {seed}");
        if let Err(error) = save_seed(seed, Path::new(&target)) {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
        if once {
            return;
        }
    }
}

fn child(target: &Path, shell_prefix: &str) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("{shell_prefix} exec \"$0\" --ignored --exact child_saving --nocapture --test-threads=1"))
        .arg(std::env::current_exe().unwrap())
        .env("SAVE_TARGET", target);
    command
}

#[test]
fn a_writer_killed_at_any_moment_leaves_the_old_model_or_the_new() {
    let parent = tempfile::tempdir().unwrap();
    let target = parent.path().join("model");
    save_seed(1, &target).unwrap();
    let mut seen = [0; 3];
    for round in 0..30u64 {
        let mut writer = child(&target, "").stdout(Stdio::piped()).spawn().unwrap();
        // Wait until it is saving, then kill it a little later each round (0–9 ms).
        let mut lines = BufReader::new(writer.stdout.take().unwrap()).lines();
        assert!(lines.any(|line| line.unwrap().starts_with("saving")), "the writer never started");
        std::thread::sleep(Duration::from_micros(round * 300));
        writer.kill().unwrap(); // SIGKILL
        writer.wait().unwrap();
        seen[loaded_seed(&target) as usize] += 1;
    }
    assert!(seen[1] + seen[2] == 30, "{seen:?}");
    // A killed writer's temporary folder is removed by the next save.
    save_seed(1, &target).unwrap();
    assert_eq!(leftovers(parent.path(), "model"), Vec::<String>::new());
}

#[test]
fn a_save_that_runs_out_of_space_changes_nothing_and_leaves_nothing() {
    let parent = tempfile::tempdir().unwrap();
    let target = parent.path().join("model");
    save_seed(1, &target).unwrap();
    // Files may grow to 32 KB (64 blocks of 512 bytes): the 438 KB of weights do not fit. SIGXFSZ
    // is ignored so the write fails with EFBIG, as it would with ENOSPC on a full disk.
    let output = child(&target, "ulimit -f 64 && trap '' XFSZ &&").env("SAVE_ONCE", "1").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(WEIGHTS_FILE) && stderr.contains("not saved"), "{stderr}");
    assert_eq!(loaded_seed(&target), 1, "the old model is intact");
    assert_eq!(leftovers(parent.path(), "model"), Vec::<String>::new());
    let mut inside: Vec<String> = leftovers(&target, "");
    inside.sort();
    assert_eq!(inside, [CONFIG_FILE, WEIGHTS_FILE]);
}

/// The process's umask, from `/proc/self/status` (reading it with `umask(2)` would change it).
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find_map(|l| l.strip_prefix("Umask:")).unwrap();
    u32::from_str_radix(line.trim(), 8).unwrap()
}

#[test]
fn both_files_get_the_mode_of_any_new_file() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let target = parent.path().join("model");
    save_seed(3, &target).unwrap();
    for name in [WEIGHTS_FILE, CONFIG_FILE] {
        let mode = std::fs::metadata(target.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o666 & !umask(), "{name}: {mode:o} (0644 under the usual umask 022)");
    }
}

#[test]
fn a_target_that_cannot_take_a_model_is_refused_before_any_work() {
    let parent = tempfile::tempdir().unwrap();
    let file = parent.path().join("passwd");
    std::fs::write(&file, "root:x:0:0").unwrap();
    let full = parent.path().join("photos");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("holiday.jpg"), "").unwrap();
    for (target, expected) in [
        (file.clone(), "is not a folder"),
        (file.join("model"), "is not a folder"),
        (full.clone(), "holds other files (`holiday.jpg`)"),
    ] {
        let message = check_save_target(&target).unwrap_err().to_string();
        assert!(message.contains(&target.parent().unwrap().display().to_string()), "{message}");
        assert!(message.contains(expected), "{message}");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "root:x:0:0");
    // A new folder, an empty one and a model folder are fine, and checking creates nothing.
    let empty = parent.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let model = parent.path().join("model");
    save_seed(1, &model).unwrap();
    for target in [parent.path().join("new"), empty, model] {
        check_save_target(&target).unwrap();
    }
    assert!(!parent.path().join("new").exists());
}
