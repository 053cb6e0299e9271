"""Checks on the Rust kernel's build folders (scripts/kernel), in real kernels:

    check_kernel.py fresh        a new kernel finds the support crate compiled: its setup cell
                                 compiles nothing, and an edit to a path crate's source is picked
                                 up by the next kernel (no stale code)
    check_kernel.py concurrent   notebooks 01 and 05 run at the same moment in two kernels, and
                                 both succeed
"""
from concurrent.futures import ThreadPoolExecutor
import pathlib
import sys
import tempfile
import time

import nbformat
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SETUP_CELL = ':dep mnist-mlp = { path = "../crates/mnist-mlp" }\nuse mnist_mlp::prelude::*;'
FAILURES = []


def check(condition, message):
    print(("ok    " if condition else "FAIL  ") + message, flush=True)
    if not condition:
        FAILURES.append(message)


def run_cells(cells, cwd):
    """Runs `cells` in a new kernel; returns each cell's text output and seconds, and what the
    kernel wrote to stderr (where cargo reports each crate it compiles)."""
    log = tempfile.TemporaryFile(mode="w+")
    manager, client = start_new_kernel(kernel_name="rust", cwd=str(cwd), startup_timeout=300, stderr=log)
    results = []
    try:
        for cell in cells:
            text = []

            def on_output(message, text=text):
                content = message["content"]
                if message["msg_type"] == "stream":
                    text.append(content["text"])
                elif message["msg_type"] in ("execute_result", "display_data"):
                    text.append(content["data"].get("text/plain", ""))
                elif message["msg_type"] == "error":
                    text.append("ERROR " + content["evalue"])

            started = time.monotonic()
            client.execute_interactive(cell, timeout=1200, output_hook=on_output)
            results.append(("".join(text), time.monotonic() - started))
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    log.seek(0)
    return results, log.read()


def fresh():
    # The support crate: the setup cell of a second kernel compiles nothing.
    run_cells([SETUP_CELL], NOTEBOOKS)
    [(output, seconds)], log = run_cells([SETUP_CELL], NOTEBOOKS)
    compiled = [line.strip() for line in log.splitlines() if "Compiling" in line and "ctx" not in line]
    check("ERROR" not in output and not compiled,
          f"a new kernel's setup cell compiles no crate ({seconds:.1f} s){': ' if compiled else ''}{compiled[:5] or ''}")

    # An edit to a path crate's source reaches the next kernel.
    with tempfile.TemporaryDirectory() as folder:
        crate = pathlib.Path(folder) / "probe"
        (crate / "src").mkdir(parents=True)
        (crate / "Cargo.toml").write_text('[package]\nname = "probe"\nversion = "0.1.0"\nedition = "2024"\n')
        source = crate / "src" / "lib.rs"
        cells = [':dep probe = { path = "probe" }', "probe::answer()"]
        answers, rebuilt = [], []
        # Kernel 1 builds version 1; the source is edited to 2 before kernel 2; kernel 3 finds it unchanged.
        for edit in (1, 2, None):
            if edit is not None:
                source.write_text(f"pub fn answer() -> u32 {{ {edit} }}\n")
            results, log = run_cells(cells, folder)
            answers.append(results[1][0].strip())
            rebuilt.append("Compiling probe" in log)
        check(answers == ["1", "2", "2"] and rebuilt == [True, True, False],
              f"an edited crate is rebuilt by the next kernel, an unchanged one is not (answers {answers}, rebuilt {rebuilt})")


def run_notebook(name):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(notebook, timeout=1200, kernel_name="rust", resources={"metadata": {"path": str(NOTEBOOKS)}})
    started = time.monotonic()
    client.execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    return not errors, time.monotonic() - started


def side_by_side():
    names = ["01-mnist-classifier.ipynb", "05-what-the-model-learned.ipynb"]
    with ThreadPoolExecutor(len(names)) as pool:
        futures = {name: pool.submit(run_notebook, name) for name in names}
        for name, future in futures.items():
            try:
                ok, seconds = future.result()
                check(ok, f"{name} ran beside another notebook ({seconds:.1f} s)")
            except Exception as failure:  # a cell error or a dead kernel: report it, as a check
                check(False, f"{name} ran beside another notebook: {str(failure)[:500]}")


def main():
    {"fresh": fresh, "concurrent": side_by_side}[sys.argv[1]]()
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
