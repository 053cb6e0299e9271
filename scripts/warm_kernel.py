"""Starts the project's Rust kernel once and runs the notebooks' setup cell, so evcxr compiles
Candle and the other dependencies into its cache now rather than in a workshop's first cell."""
import pathlib
import sys
import time

from jupyter_client.manager import start_new_kernel

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
SETUP_CELL = ':dep mnist-mlp = { path = "../crates/mnist-mlp" }\nuse mnist_mlp::prelude::*;\nMlpConfig::default().init(&Device::Cpu)?.summary()'


def main() -> int:
    started = time.monotonic()
    manager, client = start_new_kernel(kernel_name="rust", cwd=str(NOTEBOOKS))
    try:
        errors = []

        def on_output(message):
            if message["msg_type"] == "error":
                errors.append("\n".join(message["content"]["traceback"]) or message["content"]["evalue"])

        reply = client.execute_interactive(SETUP_CELL, timeout=1800, output_hook=on_output)
        if reply["content"]["status"] != "ok" or errors:
            print("the setup cell failed:\n" + "\n".join(errors), file=sys.stderr)
            return 1
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    print(f"kernel warm: the setup cell ran in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
