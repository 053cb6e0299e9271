"""The last check of scripts/preflight: starts the project's Rust kernel in notebooks/, runs the
notebooks' setup cell and loads both data sets, and says how long that took. A warm machine answers in
seconds; minutes mean evcxr's cache is cold and the first cell of the workshop would wait as long."""
import pathlib
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "lib"))
from rust_kernel import SETUP_CELL, Kernel  # noqa: E402

CELLS = [
    ("the setup cell", SETUP_CELL),
    ("loading MNIST", "let data: Mnist = Mnist::load()?;\ndata.train_len()"),
    ("loading Fashion-MNIST", "Mnist::fashion()?.train_len()"),
]
WARM_SECONDS = 60


def main() -> int:
    started = time.monotonic()
    try:
        # evcxr greets on its output ("No configuration file found"); the checks speak for it.
        kernel = Kernel(stdout=subprocess.DEVNULL)
    except RuntimeError as error:
        print(f"FAIL  the kernel did not start: {error}\n      fix: scripts/setup, then scripts/preflight again")
        return 1
    with kernel:
        for name, code in CELLS:
            ran = kernel.run(code, timeout=1800)
            if ran.status != "ok" or ran.errors:
                errors = [error["evalue"] or "\n".join(error["traceback"]) for error in ran.errors]
                print(f"FAIL  {name} failed in the kernel:\n" + "\n".join(errors))
                print("      fix: read the error above; docs/teaching.md lists the common ones")
                return 1
    seconds = time.monotonic() - started
    if seconds > WARM_SECONDS:
        print(f"warn  the kernel ran the setup cell and loaded the data in {seconds:.0f} s: its cache was cold\n"
              "      run scripts/preflight once more; it should now take seconds")
    else:
        print(f"ok    the kernel ran the setup cell and loaded MNIST and Fashion-MNIST in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
