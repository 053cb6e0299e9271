"""Starts a Rust kernel in a running container's Jupyter server as JupyterLab does (REST, then the
kernel's websocket with a kernel_info request), runs one cell in it, and shuts it down. Used by
`scripts/image smoke`; prints one JSON object.

    python scripts/container/server_kernel.py http://127.0.0.1:18888/ TOKEN
"""
import asyncio
import json
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "lib"))
from rust_kernel import ServerKernel, request  # noqa: E402


async def main(base, token):
    default = (await request(f"{base}api/kernelspecs", token))["default"]
    started = time.monotonic()
    kernel_id = (await request(f"{base}api/kernels", token, "POST", {"name": "rust"}))["id"]
    try:
        kernel = await ServerKernel.connect(base, token, kernel_id)
        status, text = await kernel.run("40 + 2", timeout=120)
        kernel.close()
        state = (await request(f"{base}api/kernels/{kernel_id}", token))["execution_state"]
    finally:
        await request(f"{base}api/kernels/{kernel_id}", token, "DELETE")
    print(json.dumps({"default_kernel": default, "reply": status, "output": text.strip(), "state": state,
                      "seconds": round(time.monotonic() - started, 2)}))


if __name__ == "__main__":
    base, token = sys.argv[1].rstrip("/") + "/", sys.argv[2]
    asyncio.run(main(base, token))
