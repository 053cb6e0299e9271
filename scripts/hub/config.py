"""JupyterHub configuration of scripts/classroom, which sets the MNIST_CLASSROOM_* variables.

The proxy runs as its own process (started by scripts/classroom) and the hub leaves students'
servers running when it stops, so the hub can restart without interrupting a class. Each student is
a Unix user; the hub runs as root and starts their servers as them (LocalProcessSpawner).
"""
import asyncio
import fcntl
import hashlib
import os
import pathlib
import pwd
import re
import shutil
import subprocess
import sys
import threading

c = get_config()  # noqa: F821 (JupyterHub provides it)

SHARED = pathlib.Path(os.environ["MNIST_CLASSROOM_SHARED"])
STATE = pathlib.Path(os.environ["MNIST_CLASSROOM_STATE"])
SECRETS = STATE / "secrets"
TEACHER = os.environ["MNIST_CLASSROOM_TEACHER"]
CLASS_LIST = os.environ.get("MNIST_CLASSROOM_CLASS_LIST", "")
HUB_PYTHON = sys.executable
# A name that is also a safe Unix user name (useradd's own rule, without its odd corners).
USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# useradd locks /etc/passwd and fails when another useradd holds it.
USERADD = threading.Lock()


def read_class_list(path):
    """The students' names, one a line; a bad line stops the hub with the file and line named."""
    names = set()
    for number, line in enumerate(pathlib.Path(path).read_text().splitlines(), start=1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        if not USER_NAME.match(name):
            sys.exit(
                f"error: {path}, line {number}: {name!r} is not a user name "
                "(lower-case letters, digits, - and _, at most 32, starting with a letter)"
            )
        names.add(name)
    return names


def ensure_unix_user(name):
    """Creates the student's Unix user on first start, with a home only they can enter."""
    try:
        return pathlib.Path(pwd.getpwnam(name).pw_dir)
    except KeyError:
        pass
    with USERADD:
        subprocess.run(
            ["useradd", "--create-home", "--user-group", "--shell", "/bin/bash",
             "--comment", "mnist classroom", name],
            check=True,
        )
        home = pathlib.Path(pwd.getpwnam(name).pw_dir)
        home.chmod(0o700)
    return home


def is_shared_artifact(relative):
    """Files of the template's dependencies (compiled libraries, build-script outputs, cargo's
    fingerprints) that cargo only reads while they are fresh; the cell crate `ctx`, which evcxr
    rebuilds for every cell, and everything else gets a private copy."""
    parts = relative.parts
    return (
        any(part in ("deps", "build", ".fingerprint") for part in parts[:-1])
        and not any(part.startswith(("ctx-", "libctx", "ctx.")) for part in parts)
    )


def seed_first_slot(home, account):
    """Root prepares the student's first kernel build folder (scripts/kernel's slot-0) from the
    template: hard links for the dependencies' artifacts, which stay root's and read-only (a
    student cannot change them, only replace them with their own files), copies of the rest. About
    40 MB a student instead of the template's 500; the kernel would otherwise copy it all."""
    template = SHARED / "template-slot"
    project = os.path.realpath(SHARED / "project")
    state = home / ".cache" / "mnist-notebooks" / hashlib.sha256(project.encode()).hexdigest()[:16]
    slot = state / "slot-0"
    template_id = (template / ".template-id").read_bytes()
    if (slot / ".template-id").is_file() and (slot / ".template-id").read_bytes() == template_id:
        return
    for directory in (home / ".cache", home / ".cache" / "mnist-notebooks", state):
        directory.mkdir(exist_ok=True)
        os.chown(directory, account.pw_uid, account.pw_gid)
    lock_path = state / "slot-0.lock"
    with open(lock_path, "a") as lock:
        os.chown(lock_path, account.pw_uid, account.pw_gid)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # a kernel of theirs still holds it; scripts/kernel copies a template itself
        shutil.rmtree(slot, ignore_errors=True)
        remove_free_slots(state)
        for source in sorted(template.rglob("*")):
            relative = source.relative_to(template)
            if relative.name == ".template-id":
                continue
            target = slot / relative
            if source.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                shutil.copystat(source, target)
            elif is_shared_artifact(relative):
                os.link(source, target)
                continue
            else:
                shutil.copy2(source, target)
            os.chown(target, account.pw_uid, account.pw_gid)
        # The stamp last: it says the folder is complete.
        shutil.copy2(template / ".template-id", slot / ".template-id")
        os.chown(slot / ".template-id", account.pw_uid, account.pw_gid)
        os.chown(slot, account.pw_uid, account.pw_gid)


def remove_free_slots(state):
    """Build folders seeded from an older template (their hard links name what it compiled then);
    scripts/kernel seeds them again from the new one. Those a kernel still holds stay."""
    for slot in state.glob("slot-*"):
        if not slot.is_dir() or slot.name == "slot-0" or not pathlib.Path(f"{slot}.lock").is_file():
            continue
        with open(f"{slot}.lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            shutil.rmtree(slot, ignore_errors=True)


async def prepare_home(spawner):
    """Before each start, off the hub's event loop (a class starts at once)."""
    await asyncio.to_thread(prepare_home_now, spawner.user.name)


def prepare_home_now(name):
    """The Unix user; on first login a copy of the notebooks that is theirs (a later update of the
    project never overwrites it), next to a link to the shared crates that the notebooks' setup
    cell names as ../crates/mnist-mlp; and their first kernel build folder."""
    home = ensure_unix_user(name)
    account = pwd.getpwnam(name)
    notebooks = home / "notebooks"
    if not notebooks.exists():
        shutil.copytree(SHARED / "project" / "notebooks", notebooks, ignore=shutil.ignore_patterns(".evcxr"))
        for path in [notebooks, *notebooks.rglob("*")]:
            os.lchown(path, account.pw_uid, account.pw_gid)
    crates = home / "crates"
    if not crates.is_symlink() and not crates.exists():
        crates.symlink_to(SHARED / "project" / "crates")
        os.lchown(crates, account.pw_uid, account.pw_gid)
    seed_first_slot(home, account)


c.JupyterHub.bind_url = f"http://{os.environ['MNIST_CLASSROOM_IP']}:{os.environ['MNIST_CLASSROOM_PORT']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = 8081
c.ConfigurableHTTPProxy.should_start = False
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:8001"
c.JupyterHub.cleanup_servers = False
c.JupyterHub.cookie_secret_file = str(SECRETS / "cookie_secret")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")

c.JupyterHub.authenticator_class = "firstuseauthenticator.FirstUseAuthenticator"
c.FirstUseAuthenticator.dbm_path = str(STATE / "passwords.dbm")
c.FirstUseAuthenticator.min_password_length = 8
c.Authenticator.admin_users = {TEACHER}
c.Authenticator.allowed_users = (read_class_list(CLASS_LIST) if CLASS_LIST else set()) | {TEACHER}

c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [str(SHARED / "venv" / "bin" / "jupyterhub-singleuser")]
c.Spawner.args = [
    "--MappingKernelManager.default_kernel_name=rust",
    # A kernel left idle for an hour gives its memory back; the server stays.
    "--MappingKernelManager.cull_idle_timeout=3600",
]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.pre_spawn_hook = prepare_home
c.Spawner.environment = {
    "PATH": os.environ["MNIST_CLASSROOM_STUDENT_PATH"],
    "CARGO_HOME": str(SHARED / "cargo"),
    "CARGO_NET_OFFLINE": "true",
    # The crate looks for data/mnist above the program and the current folder; a student's are
    # evcxr in /opt and their home, neither of which holds it.
    "MNIST_DIR": str(SHARED / "project" / "data" / "mnist"),
    "FASHION_MNIST_DIR": str(SHARED / "project" / "data" / "fashion-mnist"),
}
if os.environ.get("MNIST_CLASSROOM_KERAS"):
    # scripts/classroom start --keras: the Keras notebook's kernel (TensorFlow), beside the Rust one.
    c.Spawner.environment["JUPYTER_PATH"] = str(SHARED / "keras" / "jupyter")
# A whole class logging in at once on two cores: give the servers time to start.
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300

c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    },
    {"name": "admin", "services": ["classroom-admin"]},
]
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [HUB_PYTHON, "-m", "jupyterhub_idle_culler",
                    f"--timeout={os.environ['MNIST_CLASSROOM_IDLE_TIMEOUT']}", "--cull-every=300"],
    },
    # scripts/classroom stop/status and the load test act through the hub's API with this token.
    {"name": "classroom-admin", "api_token": (SECRETS / "admin_token").read_text().strip()},
]
