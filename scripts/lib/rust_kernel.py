"""The project's Rust kernel for the scripts that run cells in it: where the notebooks are, their
setup cell (written here once), and two ways to run cells:

    Kernel(cwd)          a kernel this process starts (jupyter_client), as JupyterLab would in that
                         folder: `run(code, timeout)` -> Ran(status, text, errors, seconds)
    ServerKernel         a kernel that a running Jupyter server holds, spoken to as JupyterLab
                         speaks to it: `request` for the REST API, then the kernel's websocket

Used by lib/warm_kernel.py (scripts/setup, scripts/classroom), checks/preflight.py, checks/kernel.py,
checks/notebooks.py (the setup cell's `:dep` line), hub/loadtest.py and container/server_kernel.py.
Jupyter's packages (jupyter_client, tornado) are imported where they are used, so that a script
that needs only the setup cell imports this with any Python.
"""
import asyncio
import datetime
import json
import pathlib
import time
import uuid
from typing import NamedTuple

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
# The name scripts/setup (and scripts/classroom, for students) registers the kernel under.
KERNEL_NAME = "rust"


def dep_line(crates="../crates"):
    """The setup cell's `:dep` line for a notebook whose `crates` folder is at `crates` (relative to
    the notebook's folder: "../crates" in notebooks/, "../../crates" in notebooks/solutions/)."""
    return f':dep mnist-mlp = {{ path = "{crates}/mnist-mlp" }}'


# The notebooks' setup cell, as it opens every notebook in notebooks/.
SETUP_CELL = dep_line() + "\nuse mnist_mlp::prelude::*;"


class Ran(NamedTuple):
    """What one cell did: the reply's status ("ok", "error", ...), its text output in order (streams,
    results' text/plain, and "ERROR <evalue>" for an error), the error messages' contents (each
    with "evalue" and "traceback"), and the seconds from sending it to its reply."""

    status: str
    text: str
    errors: list
    seconds: float


class Kernel:
    """The project's Rust kernel, started by this process in `cwd` (`:dep` paths are relative to
    it) and shut down on close or at the end of a `with` block. `startup_timeout` is
    jupyter_client's wait for the kernel's first answer; `popen` goes to the kernel's process
    (stdout=, stderr=). Raises RuntimeError when the kernel does not start."""

    def __init__(self, cwd=NOTEBOOKS, startup_timeout=60, **popen):
        from jupyter_client.manager import start_new_kernel

        self.manager, self.client = start_new_kernel(
            kernel_name=KERNEL_NAME, cwd=str(cwd), startup_timeout=startup_timeout, **popen
        )

    @property
    def pid(self):
        """The kernel's process: evcxr's own, since scripts/kernel execs evcxr_jupyter."""
        return self.manager.provisioner.process.pid

    def run(self, code, timeout):
        """Runs one cell and waits for its reply (TimeoutError after `timeout` seconds)."""
        text, errors = [], []

        def on_output(message):
            content = message["content"]
            if message["msg_type"] == "stream":
                text.append(content["text"])
            elif message["msg_type"] in ("execute_result", "display_data"):
                text.append(content["data"].get("text/plain", ""))
            elif message["msg_type"] == "error":
                text.append("ERROR " + content["evalue"])
                errors.append(content)

        started = time.monotonic()
        reply = self.client.execute_interactive(code, timeout=timeout, output_hook=on_output)
        return Ran(reply["content"]["status"], "".join(text), errors, time.monotonic() - started)

    def close(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()


async def request(url, token, method="GET", body=None, timeout=120):
    """One call to a Jupyter server's (or JupyterHub's) REST API with `token`; the answer's JSON."""
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    response = await AsyncHTTPClient().fetch(
        HTTPRequest(
            url, method=method, headers={"Authorization": f"token {token}"} if token else {},
            body=None if body is None else json.dumps(body),
            allow_nonstandard_methods=True, request_timeout=timeout,
        )
    )
    return json.loads(response.body) if response.body else None


class KernelDied(Exception):
    pass


class ServerKernel:
    """A kernel's websocket, spoken as JupyterLab speaks it (JSON messages, protocol 5.3)."""

    def __init__(self, socket, kernel_id):
        self.socket = socket
        self.id = kernel_id
        self.session = uuid.uuid4().hex

    @classmethod
    async def connect(cls, base, token, kernel_id):
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        url = f"{base.replace('http', 'ws', 1)}api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"
        socket = await asyncio.wait_for(
            websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"},
                                          connect_timeout=60, request_timeout=600),
                              max_message_size=64 * 1024 * 1024),
            timeout=600,
        )
        kernel = cls(socket, kernel_id)
        # Like JupyterLab: a kernel_info request, answered once the kernel is up.
        msg_id = kernel.send("kernel_info_request", {})
        await kernel.collect([msg_id], timeout=300, until_idle=False)
        return kernel

    def send(self, msg_type, content):
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "username": "loadtest", "session": self.session, "msg_type": msg_type,
                  "version": "5.3", "date": datetime.datetime.now(datetime.timezone.utc).isoformat()}
        self.socket.write_message(json.dumps(
            {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell",
             "buffers": []}))
        return msg_id

    def execute(self, code):
        return self.send("execute_request", {"code": code, "silent": False, "store_history": True,
                                             "user_expressions": {}, "allow_stdin": False,
                                             "stop_on_error": True})

    async def collect(self, msg_ids, timeout, on_output=None, until_idle=True):
        """Waits for the replies to `msg_ids` and, with `until_idle`, for the kernel to report each
        request done (status idle): outputs may come after the reply, which is on another channel.
        `on_output(msg_id, kind, text, stream)` sees each output as it comes (`stream`: "stdout" or
        "stderr" for a stream, else None). Returns {msg_id: (status, output text)}."""
        pending = set(msg_ids)
        busy = set(msg_ids) if until_idle else set()
        replies = {}
        self.replied_at = {}
        texts = {msg_id: [] for msg_id in msg_ids}
        deadline = time.monotonic() + timeout
        while pending or busy:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply within {timeout} s")
            raw = await asyncio.wait_for(self.socket.read_message(), timeout=left)
            if raw is None:
                raise KernelDied("the websocket closed")
            message = json.loads(raw)
            kind = message["msg_type"]
            parent = message.get("parent_header", {}).get("msg_id")
            content = message["content"]
            if kind == "status" and content.get("execution_state") in ("restarting", "dead"):
                raise KernelDied(f"kernel {content['execution_state']}")
            if parent not in texts:
                continue
            if kind == "status" and content.get("execution_state") == "idle":
                busy.discard(parent)
            if kind in ("stream", "execute_result", "display_data", "error"):
                text = content.get("text") or content.get("data", {}).get("text/plain", "") or content.get("evalue", "")
                texts[parent].append(text)
                if on_output:
                    on_output(parent, kind, text, content.get("name") if kind == "stream" else None)
            elif kind.endswith("_reply"):
                replies[parent] = content.get("status")
                self.replied_at[parent] = time.monotonic()
                pending.discard(parent)
                if replies[parent] == "aborted":  # never ran, so no status follows
                    busy.discard(parent)
        return {msg_id: (replies[msg_id], "".join(texts[msg_id])) for msg_id in msg_ids}

    async def run(self, code, timeout=300):
        msg_id = self.execute(code)
        return (await self.collect([msg_id], timeout))[msg_id]

    def close(self):
        self.socket.close()
