"""The learner's wait: Run-All of each notebook as JupyterLab does it (a new kernel, then every
cell in order), timed per cell. Part of scripts/bench.

    perf/notebooks.py rust OUT.json [NOTEBOOK ...]   the project's notebooks on the Rust kernel
    perf/notebooks.py keras OUT.json                 the same walkthrough as notebook 01, written
                                                     for Keras (scripts/perf/keras/), on the
                                                     Python kernel of the interpreter running this

Each notebook runs twice and the second run is reported ("warm": caches filled, as for a learner
who has opened the notebook before); the first is kept as "first_run_seconds".
"""
import datetime
import json
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[2]


def seconds_between(start, end):
    parse = datetime.datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def run_all(path, kernel_name):
    """One Run-All in a fresh kernel: wall seconds from the kernel's start to the last output,
    the kernel's own start-up, and the seconds of each code cell."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=1200, kernel_name=kernel_name, record_timing=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.monotonic()
    client.execute()
    wall = time.monotonic() - started
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        timing = cell.metadata.get("execution", {})
        cells.append(round(seconds_between(timing["iopub.status.busy"], timing["shell.execute_reply"]), 3))
    return {"run_all_seconds": round(wall, 2), "kernel_start_seconds": round(wall - sum(cells), 2), "cells": cells}


def measure(path, kernel_name):
    first = run_all(path, kernel_name)
    warm = run_all(path, kernel_name)
    print(
        f"  {path.name}: {warm['run_all_seconds']:.1f} s warm ({first['run_all_seconds']:.1f} s first), "
        f"slowest cell {max(warm['cells']):.2f} s",
        file=sys.stderr,
        flush=True,
    )
    return {"name": path.stem, **warm, "first_run_seconds": first["run_all_seconds"]}


def main():
    kind, out = sys.argv[1], pathlib.Path(sys.argv[2])
    if kind == "rust":
        names = sys.argv[3:]
        notebooks = ROOT / "notebooks"
        paths = [notebooks / n for n in names] if names else sorted(notebooks.glob("[0-9][0-9]-*.ipynb"))
        result = {"notebooks": [measure(p, "rust") for p in paths]}
    else:
        path = ROOT / "scripts" / "perf" / "keras" / "01-mnist-classifier-keras.ipynb"
        keras = measure(path, "python3")
        result = {"keras_notebook": keras, "keras_notebook_seconds": keras["run_all_seconds"]}
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
