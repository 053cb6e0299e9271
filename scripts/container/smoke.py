"""Runs inside a fresh container of the image (scripts/image smoke pipes it in): Run-All of the
home's copy of notebook 01 on the image's Rust kernel, as a student's JupyterLab would start it.
Prints one JSON object: the accuracy the notebook printed, the Run-All and first-cell seconds, the
kernel's start-up, and which compiled libraries in the kernel's build folders are newer than the
start (none when everything was compiled into the image)."""
import datetime
import json
import os
import pathlib
import re
import subprocess
import sys
import time

import nbformat
from nbclient import NotebookClient

NOTEBOOK = pathlib.Path.home() / "notebooks" / "01-mnist-classifier.ipynb"
STATE = pathlib.Path(os.environ["MNIST_KERNEL_STATE"])


def seconds_between(start, end):
    parse = datetime.datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def compiled_since(moment):
    """Libraries cargo wrote into the build folders after `moment`. The cells' own crate (`ctx`,
    evcxr's name for it, and its per-cell copies `libcode_N.so`) is compiled per cell by design
    and is left out."""
    return sorted(
        path.name
        for pattern in ("*.rlib", "*.so", "*.rmeta")
        for path in STATE.glob(f"*/target/**/deps/{pattern}")
        if path.stat().st_mtime > moment and not path.name.startswith(("libctx.", "libcode_"))
    )


def main():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, timeout=1200, kernel_name="rust", record_timing=True,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    started_at = time.time()
    started = time.monotonic()
    # evcxr greets on its output ("No configuration file found"), which is where this prints its
    # result: as in scripts/checks/preflight.py, the kernel's output goes nowhere.
    client.execute(stdout=subprocess.DEVNULL)
    wall = time.monotonic() - started
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    seconds = [seconds_between(c.metadata.execution["iopub.status.busy"], c.metadata.execution["shell.execute_reply"]) for c in code]
    if not code[0].source.startswith(":dep"):
        sys.exit(f"{NOTEBOOK}: the first code cell is not the setup cell (:dep ...)")
    text = "".join(
        output.get("text", "") for cell in code for output in cell.outputs if output.output_type == "stream"
    )
    match = re.search(r"test accuracy: (0\.\d+)", text)
    print(json.dumps({
        "accuracy": float(match.group(1)) if match else None,
        "run_all_seconds": round(wall, 2),
        "first_cell_seconds": round(seconds[0], 2),
        "kernel_start_seconds": round(wall - sum(seconds), 2),
        "cells": [round(s, 2) for s in seconds],
        "recompiled": compiled_since(started_at),
    }))


if __name__ == "__main__":
    main()
