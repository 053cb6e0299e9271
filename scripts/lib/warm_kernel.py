"""Starts the project's Rust kernel once and runs the notebooks' setup cell, so evcxr compiles
Candle and the other dependencies into its cache now rather than in a workshop's first cell."""
import sys
import time

from rust_kernel import SETUP_CELL, Kernel

# The setup cell, then a line that compiles the model's code too.
CELL = SETUP_CELL + "\nMlpConfig::default().init(&Device::Cpu)?.summary()"


def main() -> int:
    started = time.monotonic()
    with Kernel() as kernel:
        ran = kernel.run(CELL, timeout=1800)
        if ran.status != "ok" or ran.errors:
            errors = ["\n".join(error["traceback"]) or error["evalue"] for error in ran.errors]
            print("the setup cell failed:\n" + "\n".join(errors), file=sys.stderr)
            return 1
    print(f"kernel warm: the setup cell ran in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
