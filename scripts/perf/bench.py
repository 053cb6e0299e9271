"""The peers' side of scripts/bench, and its report.

    bench.py peer pytorch|keras   trains the project's model with the project's recipe and bundled
                                  data in that framework; prints the figures as one JSON object
    bench.py report DIR           merges DIR/run-*.json (training), DIR/autograd-rounds/*.json
                                  (autograd on all threads and on one, alternated) and
                                  DIR/notebooks-*.json (Run-All) into DIR/results.json, prints the
                                  tables with the ratios, and draws DIR/chart.svg
"""
import gzip
import json
import os
import pathlib
import platform
import resource
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "mnist"
EPOCHS, BATCH, SEED, THREADS = 5, 32, 42, 2


def load():
    import numpy as np

    def idx(name, offset):
        return np.frombuffer(gzip.open(DATA / f"{name}.gz").read(), np.uint8, offset=offset)

    scale = lambda a: a.reshape(-1, 784).astype(np.float32) / 255.0
    return (
        scale(idx("train-images-idx3-ubyte", 16)),
        idx("train-labels-idx1-ubyte", 8).astype(np.int64),
        scale(idx("t10k-images-idx3-ubyte", 16)),
        idx("t10k-labels-idx1-ubyte", 8).astype(np.int64),
    )


def timed(f, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        f()
        times.append((time.perf_counter() - started) * 1e3)
    return times


def pytorch():
    import torch
    from torch import nn

    torch.set_num_threads(THREADS)
    torch.manual_seed(SEED)
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in load())
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    for layer in model:
        if isinstance(layer, nn.Linear):  # Keras' initialisation
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    epoch_seconds = []
    for _ in range(EPOCHS):
        started = time.perf_counter()
        order = torch.randperm(len(x_train))
        for i in range(0, len(x_train), BATCH):
            batch = order[i : i + BATCH]
            optimizer.zero_grad()
            loss_fn(model(x_train[batch]), y_train[batch]).backward()
            optimizer.step()
        epoch_seconds.append(time.perf_counter() - started)
    with torch.inference_mode():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
        infer = timed(lambda: model(x_test).argmax(1), 6)[1:]
        one = x_test[:1]
        timed(lambda: model(one).argmax(1), 200)
        single = timed(lambda: model(one).argmax(1), 2000)
    return epoch_seconds, accuracy, min(infer), statistics.median(single)


def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(THREADS)
    keras.utils.set_random_seed(SEED)
    x_train, y_train, x_test, y_test = load()
    model = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )

    class EpochTimer(keras.callbacks.Callback):
        seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.started)

    timer = EpochTimer()
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH, verbose=0, callbacks=[timer])
    accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)[1]
    infer = timed(lambda: model(x_test, training=False).numpy().argmax(1), 6)[1:]
    one = x_test[:1]
    timed(lambda: model(one, training=False).numpy().argmax(1), 50)
    single = timed(lambda: model(one, training=False).numpy().argmax(1), 500)
    return timer.seconds, float(accuracy), min(infer), statistics.median(single)


def peer(system):
    epoch_seconds, accuracy, infer_ms, single_ms = {"pytorch": pytorch, "keras": keras}[system]()
    print(
        json.dumps(
            {
                "system": system,
                "batch_size": BATCH,
                "epoch_seconds": epoch_seconds,
                "median_epoch_seconds": statistics.median(epoch_seconds),
                "test_accuracy": accuracy,
                "infer_10k_ms": infer_ms,
                "single_ms": single_ms,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "threads": THREADS,
                "version": __import__("torch" if system == "pytorch" else "keras").__version__,
            }
        )
    )


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "os": platform.platform(), "rustc": rustc}


def label(run):
    threads = run.get("threads", "?")
    return f"{run['system']}, batch {run['batch_size']}, {threads} thread" + ("" if threads == 1 else "s")


def chart(runs):
    """Median seconds per epoch as horizontal bars, one per run."""
    bar_h, left, width = 30, 290, 420
    longest = max(r["median_epoch_seconds"] for r in runs)
    rows = []
    for i, r in enumerate(runs):
        y = 40 + i * (bar_h + 10)
        w = width * r["median_epoch_seconds"] / longest
        color = "#ff7f0e" if r["system"].startswith("ours") else "#1f77b4"
        rows.append(
            f'<text x="{left - 8}" y="{y + 20}" text-anchor="end">{label(r)}</text>'
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>'
            f'<text x="{left + w + 6:.1f}" y="{y + 20}">{r["median_epoch_seconds"]:.2f} s</text>'
        )
    height = 50 + len(runs) * (bar_h + 10)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="820" height="{height}" font-family="sans-serif" font-size="14">'
        '<rect width="100%" height="100%" fill="white"/>'
        '<text x="410" y="22" text-anchor="middle" font-size="16">Seconds per epoch (median of 5), lower is better</text>'
        + "".join(rows)
        + "</svg>\n"
    )


def report(folder):
    folder = pathlib.Path(folder)
    runs = [json.loads(p.read_text()) for p in sorted(folder.glob("run-*.json"))]
    results = {"machine": machine(), "runs": runs, "autograd_threads": autograd_threads(folder)}
    for part in sorted(folder.glob("notebooks-*.json")):
        results.update(json.loads(part.read_text()))
    (folder / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (folder / "chart.svg").write_text(chart(runs))
    print(
        f"\n{'system':<15}{'batch':>6}{'threads':>8}{'s/epoch':>9}{'accuracy':>10}{'10k ms':>9}{'1 image ms':>12}{'peak MB':>9}"
    )
    for r in runs:
        print(
            f"{r['system']:<15}{r['batch_size']:>6}{r.get('threads', '?'):>8}{r['median_epoch_seconds']:>9.3f}"
            f"{r['test_accuracy']:>10.4f}"
            f"{r['infer_10k_ms']:>9.2f}{r['single_ms']:>12.4f}{r['peak_rss_mb']:>9.0f}"
        )
    ours = next((r for r in runs if r["system"] == "ours" and r["batch_size"] == BATCH), None)
    peers = [r for r in runs if r["system"] in ("pytorch", "keras")]
    if ours:
        print()
        for p in peers:
            print(
                f"ours vs {p['system']}: {p['median_epoch_seconds'] / ours['median_epoch_seconds']:.2f}x faster per epoch, "
                f"{p['infer_10k_ms'] / ours['infer_10k_ms']:.2f}x on 10k images, "
                f"{p['single_ms'] / ours['single_ms']:.2f}x on one image"
            )
        if not peers:
            print("no peer ran: see the messages above")
    threads = results["autograd_threads"]
    if threads:
        print(
            f"ours-autograd on {threads['threads']} threads vs 1 (median of {threads['rounds']} alternated runs each): "
            f"{threads['speed_ratio']:.2f}x the speed per epoch ({threads['seconds']:.3f} s vs {threads['one_thread_seconds']:.3f} s)"
        )
    notebooks(results)
    print(f"\nwrote {folder / 'results.json'} and {folder / 'chart.svg'}")


def autograd_threads(folder):
    """A model that is not the Mlp trains through autograd: more threads must not make it slower.
    The median s/epoch of the alternated rounds in DIR/autograd-rounds, on all threads and on one."""
    seconds = {}
    for path in sorted((folder / "autograd-rounds").glob("*.json")):
        run = json.loads(path.read_text())
        seconds.setdefault(run["threads"], []).append(run["median_epoch_seconds"])
    if 1 not in seconds or len(seconds) < 2:
        return None
    most = max(seconds)
    many, one = statistics.median(seconds[most]), statistics.median(seconds[1])
    return {
        "threads": most,
        "rounds": len(seconds[most]),
        "seconds": many,
        "one_thread_seconds": one,
        "speed_ratio": one / many,
    }


def notebooks(results):
    """The Run-All table: each notebook's warm Run-All, its kernel start and slowest cell."""
    rows = results.get("notebooks", [])
    if not rows:
        return
    print(f"\n{'notebook (Run-All, warm)':<36}{'seconds':>8}{'first run':>10}{'kernel start':>13}{'slowest cell':>13}")
    for r in rows:
        print(
            f"{r['name']:<36}{r['run_all_seconds']:>8.1f}{r['first_run_seconds']:>10.1f}"
            f"{r['kernel_start_seconds']:>13.1f}{max(r['cells']):>13.2f}"
        )
    keras = results.get("keras_notebook_seconds")
    ours = next((r for r in rows if r["name"] == "01-mnist-classifier"), None)
    if keras:
        print(f"{'01 as a Keras notebook':<36}{keras:>8.1f}{results['keras_notebook']['first_run_seconds']:>10.1f}")
    if keras and ours:
        print(f"\nnotebook 01 vs the Keras notebook: {keras / ours['run_all_seconds']:.2f}x faster Run-All")


if __name__ == "__main__":
    command, argument = sys.argv[1], sys.argv[2]
    peer(argument) if command == "peer" else report(argument)
