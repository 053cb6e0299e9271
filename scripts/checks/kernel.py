"""Checks on the Rust kernel's build folders (scripts/kernel), in real kernels:

    checks/kernel.py fresh       a new kernel finds the support crate compiled: its setup cell
                                 compiles nothing, and an edit to a path crate's source is picked
                                 up by the next kernel and by the same kernel's next cell (no
                                 stale code)
    checks/kernel.py concurrent  notebooks 01 and 05 run at the same moment in two kernels, and
                                 both succeed
    checks/kernel.py analysis    the project's evcxr (kernel/patches) runs no rust-analyzer pass
                                 for notebook 01, whose `let`s state their types, and still infers
                                 the types of a learner's untyped `let`s
"""
from concurrent.futures import ThreadPoolExecutor
import os
import pathlib
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "lib"))
from rust_kernel import NOTEBOOKS, SETUP_CELL, Kernel  # noqa: E402

FAILURES = []


def check(condition, message):
    print(("ok    " if condition else "FAIL  ") + message, flush=True)
    if not condition:
        FAILURES.append(message)


def cpu_seconds(pid):
    """User and system CPU seconds of process `pid` so far (evcxr's own, not its compilers')."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_cells(cells, cwd):
    """Runs `cells` in a new kernel; returns each cell's text output, seconds and evcxr's own CPU
    seconds, and what the kernel wrote to stderr (where cargo reports each crate it compiles)."""
    log = tempfile.TemporaryFile(mode="w+")
    results = []
    with Kernel(cwd, startup_timeout=300, stderr=log) as kernel:
        for cell in cells:
            cpu = cpu_seconds(kernel.pid)
            ran = kernel.run(cell, timeout=1200)
            results.append((ran.text, ran.seconds, cpu_seconds(kernel.pid) - cpu))
    log.seek(0)
    return results, log.read()


def fresh():
    # The support crate: the setup cell of a second kernel compiles nothing.
    run_cells([SETUP_CELL], NOTEBOOKS)
    [(output, seconds, _)], log = run_cells([SETUP_CELL], NOTEBOOKS)
    compiled = [line.strip() for line in log.splitlines() if "Compiling" in line and "ctx" not in line]
    check("ERROR" not in output and not compiled,
          f"a new kernel's setup cell compiles no crate ({seconds:.1f} s){': ' if compiled else ''}{compiled[:5] or ''}")

    # evcxr's first build in a kernel has no dependencies; the versions the last kernel resolved
    # must stay in its Cargo.lock (kernel/patches/0006), or the setup cell resolves them all again.
    # Then errors in a cell come from rustc alone (0007): they must be the cell's, and the cells
    # after them must run.
    with Kernel(NOTEBOOKS, startup_timeout=300) as kernel:
        lock_file = pathlib.Path(kernel.run(":last_compile_dir", timeout=60).text.strip()) / "Cargo.lock"
        lock = lock_file.read_text() if lock_file.is_file() else ""
        check('name = "mnist-mlp"' in lock and 'name = "candle-core"' in lock,
              f"a new kernel keeps the support crate's locked versions ({lock_file})")
        cells = [SETUP_CELL, 'let wrong: u32 = "seven";', "no_such_function(1)",
                 "let digits: Mnist = Mnist::load()?;\ndigits.test_len()", "digits.train_len() + 1"]
        ran = [kernel.run(cell, timeout=300) for cell in cells]
        messages = [[error["evalue"] for error in r.errors] for r in ran]
        check([r.status for r in ran] == ["ok", "error", "error", "ok", "ok"]
              and messages[1] == ["mismatched types"]
              and messages[2] == ["cannot find function `no_such_function` in this scope"]
              and [r.text.strip() for r in ran[3:]] == ["10000", "60001"],
              f"a cell's errors are its own, and the next cells run (statuses {[r.status for r in ran]}, "
              f"errors {messages[1:3]}, answers {[r.text.strip() for r in ran[3:]]})")

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

        # And by the same kernel's next cell: a cell compiled by rustc alone (kernel/patches/0005)
        # must not hide an edit from cargo.
        with Kernel(folder, startup_timeout=300) as kernel:
            answers = [kernel.run(cells[0], timeout=1200).text, kernel.run(cells[1], timeout=1200).text]
            answers.append(kernel.run("probe::answer() + 0", timeout=1200).text)
            source.write_text("pub fn answer() -> u32 { 3 }\n")
            answers.append(kernel.run(cells[1], timeout=1200).text)
        answers = [answer.strip() for answer in answers[1:]]
        check(answers == ["2", "2", "3"], f"an edit between two cells of one kernel reaches the next cell (answers {answers})")


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


def analysis():
    notebook = nbformat.read(NOTEBOOKS / "01-mnist-classifier.ipynb", as_version=4)
    cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    # A learner's own cells: a struct of the crate's, a closure's result and a tuple, untyped.
    untyped = [
        "let loaded = Mnist::load()?;",
        "let doubled = (|x: u32| x * 2)(21);",
        "let (count, share) = (loaded.test_len(), 0.5f32);",
        ":vars",
    ]
    results, _ = run_cells(cells + untyped, NOTEBOOKS)
    errors = [output for output, _, _ in results if "ERROR" in output]
    check(not errors, f"notebook 01 and the untyped cells ran without errors {[e[:200] for e in errors[:2]]}")
    notebook_cpu = sum(cpu for _, _, cpu in results[: len(cells)])
    # The analysis costs several CPU seconds the first time (measured: ~10 s for notebook 01);
    # compiling and running cells happens in other processes.
    check(notebook_cpu < 2.0,
          f"evcxr's own CPU for all {len(cells)} cells of notebook 01 is {notebook_cpu:.2f} s: no analysis ran")
    variables = dict(line.split(": ", 1) for line in results[-1][0].splitlines() if ": " in line)
    expected = {"loaded": "Mnist", "doubled": "u32", "count": "usize", "share": "f32"}
    check(all(variables.get(name) == ty for name, ty in expected.items()),
          f"untyped lets get their types {{{', '.join(f'{n}: {variables.get(n)}' for n in expected)}}}; "
          f"the first cost {results[len(cells)][2]:.1f} CPU s and {results[len(cells)][1]:.1f} s")


def main():
    {"fresh": fresh, "concurrent": side_by_side, "analysis": analysis}[sys.argv[1]]()
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
