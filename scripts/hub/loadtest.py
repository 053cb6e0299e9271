"""Simulated students for scripts/hub/loadtest, against a running classroom on 127.0.0.1.

    hub/loadtest.py run N [--checks]   N students log in through the hub's API, start their
        servers, open notebook 01 (contents API), start a kernel (sessions API) and Run All over the
        kernel websocket as JupyterLab does, all at once; writes build/classroom/loadtest.json.
        --checks then: isolation (a kernel reads and writes another student's home and the shared
        files), faults (one student's `loop {}` and another's kernel killed mid-training while the
        rest Run All again), and a hub restart while kernels train.
        --keras then: the same students, on the same hub, log in again and Run All the Keras version
        of notebook 01 (scripts/perf/keras/) on the "keras" kernel of `scripts/classroom start
        --keras`, once the Rust class has left; the report gains "keras" and "keras_over_rust".
    hub/loadtest.py idle N             N students logged in with idle servers: their memory,
        in build/classroom/idle.json.

Students are mnist-student-01 ... (the class list scripts/hub/loadtest gives the hub); the
test deletes them from the hub at the end. Exits non-zero when a student or a check fails.
"""
import argparse
import asyncio
import json
import os
import pathlib
import pwd
import re
import secrets
import signal
import statistics
import string
import sys
import time

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "lib"))
from rust_kernel import ROOT, KernelDied, ServerKernel, request  # noqa: E402

STATE = ROOT / "build" / "classroom"
NOTEBOOK = "notebooks/01-mnist-classifier.ipynb"
KERAS_NOTEBOOK = ROOT / "scripts" / "perf" / "keras" / "01-mnist-classifier-keras.ipynb"
# Where each student's copy goes: beside their notebook 01, where a Keras class would have it.
KERAS_PATH = "notebooks/01-mnist-classifier-keras.ipynb"
HUB_API = "http://127.0.0.1:8081/hub/api"
ACCURACY = re.compile(r"test accuracy: (0\.\d+)")
RUN_ALL_TIMEOUT = 1200
AsyncHTTPClient.configure(None, max_clients=200)


def student_names(count):
    return [f"mnist-student-{i:02d}" for i in range(1, count + 1)]


def settings():
    values = {}
    for line in (STATE / "settings.env").read_text().splitlines():
        key, _, value = line.partition("=")
        values[key] = value
    return values


class Student:
    def __init__(self, name, port, notebook=NOTEBOOK, kernel_name="rust", upload=None,
                 first_output_ignores_stderr=False):
        self.name = name
        self.notebook = notebook
        self.kernel_name = kernel_name
        self.upload = upload  # a notebook (JSON) the student saves at `notebook` before opening it
        # TensorFlow logs to stderr as it loads, seconds before the notebook's first result.
        self.first_output_ignores_stderr = first_output_ignores_stderr
        self.password = secrets.token_hex(12)
        self.proxy = f"http://127.0.0.1:{port}"
        self.token = None
        self.base = None  # the server's URL through the proxy
        self.cells = None
        self.kernel = None

    async def login(self):
        """As a client of the hub's API: a password (set at first login) exchanged for a token."""
        reply = await request(f"{self.proxy}/hub/api/users/{self.name}/tokens", None, "POST",
                              {"auth": {"username": self.name, "password": self.password},
                               "note": "classroom load test"})
        self.token = reply["token"]

    async def start_server(self, timeout=600):
        await request(f"{self.proxy}/hub/api/users/{self.name}/server", self.token, "POST", {})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = (await request(f"{self.proxy}/hub/api/users/{self.name}", self.token))["servers"].get("")
            if server and server["ready"]:
                self.base = f"{self.proxy}{server['url']}"
                return
            await asyncio.sleep(1)
        raise TimeoutError(f"{self.name}'s server not ready within {timeout} s")

    async def open_notebook(self):
        if self.upload is not None:
            await request(f"{self.base}api/contents/{self.notebook}", self.token, "PUT",
                          {"type": "notebook", "format": "json", "content": self.upload})
        model = await request(f"{self.base}api/contents/{self.notebook}?content=1", self.token)
        self.cells = ["".join(c["source"]) for c in model["content"]["cells"] if c["cell_type"] == "code"]

    async def start_kernel(self):
        session = await request(f"{self.base}api/sessions", self.token, "POST",
                                {"path": self.notebook, "type": "notebook", "name": "",
                                 "kernel": {"name": self.kernel_name}})
        self.kernel = await ServerKernel.connect(self.base, self.token, session["kernel"]["id"])

    async def restart_kernel(self):
        if self.kernel:
            self.kernel.close()
        kernel_id = self.kernel.id
        await request(f"{self.base}api/kernels/{kernel_id}/restart", self.token, "POST", {}, timeout=300)
        self.kernel = await ServerKernel.connect(self.base, self.token, kernel_id)

    async def run_all(self, on_output=None):
        """Every code cell sent at once, as JupyterLab's Run All does; the kernel runs them in order
        and stops at the first error. Returns timings and what the notebook printed."""
        started = time.monotonic()
        first = []

        def seen(msg_id, kind, text, stream):
            if not first and not (stream == "stderr" and self.first_output_ignores_stderr):
                first.append(time.monotonic() - started)
            if on_output:
                on_output(msg_id, kind, text)

        ids = [self.kernel.execute(source) for source in self.cells]
        replies = await self.kernel.collect(ids, RUN_ALL_TIMEOUT, seen)
        failed = [i for i, msg_id in enumerate(ids) if replies[msg_id][0] != "ok"]
        ends = [started] + [self.kernel.replied_at[msg_id] for msg_id in ids]
        text = "".join(output for _, output in replies.values())
        match = ACCURACY.search(text)
        return {
            "run_all_seconds": round(time.monotonic() - started, 2),
            "first_output_seconds": round(first[0], 2) if first else None,
            "accuracy": float(match.group(1)) if match else None,
            "failed_cell": failed[0] if failed else None,
            "error": replies[ids[failed[0]]][1][-500:] if failed else None,
            "cell_seconds": [round(end - begin, 2) for begin, end in zip(ends, ends[1:])],
        }


class MemorySampler:
    """The classroom's memory, sampled every 2 s: the proportional set size (shared pages split
    between their users) of the hub, the proxy and every process of the students, and the
    machine's used memory (total - available)."""

    def __init__(self, uids):
        self.uids = uids
        self.peak_pss_mb = 0.0
        self.peak_used_mb = 0.0
        self.baseline_used_mb = used_memory_mb()
        self.task = None

    def classroom_pids(self):
        pids = set()
        for name in ("hub.pid", "proxy.pid"):
            try:
                pids.add(int((STATE / name).read_text()))
            except (OSError, ValueError):
                pass
        for entry in pathlib.Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if entry.stat().st_uid in self.uids:
                        pids.add(int(entry.name))
                except OSError:
                    pass
        return pids

    def sample(self):
        total_kb = 0
        for pid in self.classroom_pids():
            try:
                for line in pathlib.Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total_kb += int(line.split()[1])
            except (OSError, ValueError):
                pass
        self.peak_pss_mb = max(self.peak_pss_mb, total_kb / 1024)
        self.peak_used_mb = max(self.peak_used_mb, used_memory_mb())
        return total_kb / 1024

    async def loop(self):
        while True:
            await asyncio.to_thread(self.sample)
            await asyncio.sleep(2)

    def __enter__(self):
        self.task = asyncio.get_running_loop().create_task(self.loop())
        return self

    def __exit__(self, *_):
        self.task.cancel()


def used_memory_mb():
    info = {}
    for line in pathlib.Path("/proc/meminfo").read_text().splitlines():
        key, value = line.split(":")
        info[key] = int(value.split()[0])
    return (info["MemTotal"] - info["MemAvailable"]) / 1024


def uid_of(name):
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


async def reset_hub_users(names, admin):
    """Fresh hub accounts (so first-use passwords of an earlier run do not stand in the way)."""
    await remove_hub_users(names, admin)
    await request(f"{HUB_API}/users", admin, "POST", {"usernames": names})


async def remove_hub_users(names, admin):
    """Stops the students' servers, then deletes them from the hub (their passwords with them)."""
    for name in names:
        try:
            await request(f"{HUB_API}/users/{name}/server", admin, "DELETE")
        except HTTPClientError:
            pass
    for name in names:
        for _ in range(120):
            try:
                user = await request(f"{HUB_API}/users/{name}", admin)
                if not user["servers"]:
                    await request(f"{HUB_API}/users/{name}", admin, "DELETE")
                    break
            except HTTPClientError:
                break
            await asyncio.sleep(1)


def percentile(values, fraction):
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))], 2)


async def prepare(student):
    """Log in, start the server, open the notebook, start its kernel; the seconds each took."""
    started = time.monotonic()
    await student.login()
    await student.start_server()
    server_ready = time.monotonic()
    await student.open_notebook()
    await student.start_kernel()
    return {"server_start_seconds": round(server_ready - started, 2),
            "kernel_start_seconds": round(time.monotonic() - server_ready, 2)}


async def one_student(student):
    try:
        timings = await prepare(student)
        result = await student.run_all()
        return {"name": student.name, **timings, **result}
    except Exception as error:  # a student's failure is a result, not the end of the test
        return {"name": student.name, "error": f"{type(error).__name__}: {error}"}


def ok(result):
    return result.get("error") is None and result.get("failed_cell") is None and (result.get("accuracy") or 0) >= 0.97


def summarize(results):
    good = [r for r in results if ok(r)]
    run_all = [r["run_all_seconds"] for r in good]
    first = [r["first_output_seconds"] for r in good if r.get("first_output_seconds") is not None]
    return {
        "succeeded": len(good),
        "run_all_seconds": {"p50": percentile(run_all, 0.5), "p95": percentile(run_all, 0.95),
                            "max": max(run_all)} if run_all else None,
        "first_output_seconds": {"p50": percentile(first, 0.5), "p95": percentile(first, 0.95),
                                 "max": max(first)} if first else None,
        "accuracies": [r.get("accuracy") for r in results],
    }


# The probe a student's kernel runs against a classmate and the shared install. Each line prints
# "denied" or "ALLOWED"; the last one, the student's own home, must be allowed (the probe works).
ISOLATION_PROBE = """{
let probes: Vec<(&str, std::io::Result<()>)> = vec![
    ("read a classmate's notebook", std::fs::read("$other/notebooks/01-mnist-classifier.ipynb").map(|_| ())),
    ("list a classmate's home", std::fs::read_dir("$other").map(|_| ())),
    ("write into a classmate's home", std::fs::write("$other/intruder.txt", "x")),
    ("read a classmate's build folders", std::fs::read_dir("$other/.cache/mnist-notebooks").map(|_| ())),
    ("change the shared support crate", std::fs::OpenOptions::new().append(true).open("$shared/project/crates/mnist-mlp/src/lib.rs").map(|_| ())),
    ("add to the shared crates", std::fs::write("$shared/project/crates/intruder.rs", "x")),
    ("change the template slot", std::fs::write("$shared/template-slot/intruder", "x")),
    ("change the cargo registry", std::fs::write("$shared/cargo/registry/intruder", "x")),
    ("change the toolchain", std::fs::OpenOptions::new().append(true).open("$shared/rust/toolchain/bin/rustc").map(|_| ())),
    ("read the hub's secrets", std::fs::read("$state/secrets/cookie_secret").map(|_| ())),
    ("write its own home", std::fs::write("$own/probe.txt", "mine")),
];
for (what, result) in &probes {
    println!("{what}: {}", match result { Ok(()) => "ALLOWED".to_string(), Err(e) => format!("denied ({e})") });
}
}"""


async def check_isolation(student, other_home, own_home, shared):
    code = string.Template(ISOLATION_PROBE).substitute(other=other_home, own=own_home, shared=shared, state=STATE)
    status, text = await student.kernel.run(code)
    lines = [line for line in text.splitlines() if ": " in line]
    own_line = [line for line in lines if line.startswith("write its own home")]
    others = [line for line in lines if not line.startswith("write its own home")]
    passed = (status == "ok" and len(lines) == 11 and own_line[0].endswith("ALLOWED")
              and all(": denied" in line for line in others))
    return {"passed": passed, "probes": lines}


def kill_kernel(student_name, kernel_id):
    """SIGKILL to the kernel's process group, as a crash or the OOM killer would end it."""
    uid = uid_of(student_name)
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "evcxr_jupyter" in cmdline and kernel_id in cmdline:
            os.killpg(os.getpgid(int(entry.name)), signal.SIGKILL)
            return True
    return False


async def check_faults(students, baseline):
    """Student 1 runs `loop {}`; student 2's kernel is killed in its first epoch; the others
    restart their kernels and Run All again, as they did alone before."""
    looper, victim, others = students[0], students[1], students[2:]
    looper.kernel.execute("loop {}")
    killed = asyncio.get_running_loop().create_future()

    def on_output(_msg_id, kind, text):
        if kind == "stream" and "epoch" in text and not killed.done():
            killed.set_result(kill_kernel(victim.name, victim.kernel.id))

    async def victim_run():
        await victim.restart_kernel()
        try:
            await asyncio.wait_for(victim.run_all(on_output), timeout=600)
            return "the kernel was not killed"
        except KernelDied:
            pass
        except TimeoutError:
            return "no sign of the killed kernel within 600 s"
        # The server restarts a dead kernel; the student reconnects and goes on.
        for _ in range(120):
            try:
                victim.kernel = await ServerKernel.connect(victim.base, victim.token, victim.kernel.id)
                status, text = await victim.kernel.run("40 + 2")
                return None if status == "ok" and "42" in text else f"after the restart: {status} {text}"
            except (KernelDied, HTTPClientError, TimeoutError):
                await asyncio.sleep(1)
        return "the kernel did not come back"

    async def other_run(student):
        try:
            await student.restart_kernel()
            return {"name": student.name, **await student.run_all()}
        except Exception as error:
            return {"name": student.name, "error": f"{type(error).__name__}: {error}"}

    await asyncio.sleep(5)  # the loop is spinning
    victim_problem, *results = await asyncio.gather(victim_run(), *(other_run(s) for s in others))
    # Stop the loop: evcxr cannot interrupt a running cell, so the student shuts the kernel down.
    await request(f"{looper.base}api/kernels/{looper.kernel.id}", looper.token, "DELETE")
    looper.kernel.close()
    looper.kernel = None
    before = {r["name"]: r["run_all_seconds"] for r in baseline if ok(r)}
    pairs = [(before[r["name"]], r["run_all_seconds"]) for r in results if ok(r) and r["name"] in before]
    slowdown = statistics.median(after / alone for alone, after in pairs) if pairs else None
    return {
        "passed": victim_problem is None and killed.done() and killed.result() and all(ok(r) for r in results),
        "killed_mid_training": bool(killed.done() and killed.result()),
        "killed_student_after_restart": victim_problem or "reconnected, its restarted kernel runs cells",
        "others_succeeded": f"{sum(ok(r) for r in results)}/{len(results)}",
        "others_run_all_seconds": [r.get("run_all_seconds") for r in results],
        "others_run_all_seconds_before": [before.get(r["name"]) for r in results],
        "median_slowdown_with_loop": round(slowdown, 2) if slowdown else None,
        "results": results,
    }


async def check_hub_restart(students):
    """Kernels train while the hub restarts; they finish, the servers stay, students reconnect."""
    started = {}
    for student in students:
        student.kernel.close()
        student.kernel = await ServerKernel.connect(student.base, student.token, student.kernel.id)
        started[student.name] = student.kernel.execute(
            "let history = train(&mut model, &data, &TrainConfig::default(), print_epochs)?;\n"
            "let evaluation = evaluate(&model, &data.test_images, &data.test_labels)?;\n"
            "evaluation.accuracy")
    restart = await asyncio.create_subprocess_exec(
        str(ROOT / "scripts" / "classroom"), "restart-hub",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    restart_output = (await asyncio.wait_for(restart.communicate(), timeout=180))[0].decode()
    problems = []
    if restart.returncode != 0:
        problems.append(f"restart-hub failed: {restart_output}")
    for student in students:
        try:
            status, _ = (await student.kernel.collect([started[student.name]], 600))[started[student.name]]
            if status != "ok":
                problems.append(f"{student.name}: training during the restart ended {status}")
            server = (await request(f"{student.proxy}/hub/api/users/{student.name}", student.token))["servers"].get("")
            if not (server and server["ready"]):
                problems.append(f"{student.name}: server not running after the restart")
            await request(f"{student.base}api/contents/{NOTEBOOK}?content=0", student.token)
            student.kernel.close()
            student.kernel = await ServerKernel.connect(student.base, student.token, student.kernel.id)
            status, text = await student.kernel.run("evaluation.accuracy")
            if status != "ok" or float(text.strip()) < 0.97:
                problems.append(f"{student.name}: after reconnecting: {status} {text.strip()}")
        except Exception as error:
            problems.append(f"{student.name}: {type(error).__name__}: {error}")
    return {"passed": not problems, "students": len(students), "problems": problems}


async def guarded(check):
    """A check that raises has failed; the others still run."""
    try:
        return await check
    except Exception as error:
        return {"passed": False, "error": f"{type(error).__name__}: {error}"}


async def class_run_all(students, memory):
    """Every student at once: prepare, then Run All. The summary, the wall time, the memory and
    each student's results; `memory` learns the students' uids as the hub creates their users."""
    names = [s.name for s in students]

    async def track_uids():
        while len(memory.uids) < len(names):
            memory.uids.update(u for u in map(uid_of, names) if u is not None)
            await asyncio.sleep(1)

    tracker = asyncio.get_running_loop().create_task(track_uids())
    started = time.monotonic()
    results = await asyncio.gather(*(one_student(s) for s in students))
    tracker.cancel()
    return {
        **summarize(results),
        "wall_seconds": round(time.monotonic() - started, 1),
        "peak_memory_mb": round(memory.peak_pss_mb),
        "machine_memory_used_mb": {"before": round(memory.baseline_used_mb), "peak": round(memory.peak_used_mb)},
        "per_student": results,
    }


async def wait_for_processes_to_end(names, timeout=10):
    """The previous class's processes gone before the next class starts, so it has the machine to
    itself. A stopped server leaves its evcxr kernel running (it does not watch its parent, as
    ipykernel does), so what still runs after `timeout` is killed, as scripts/hub/loadtest's cleanup
    would. Returns the names of the processes killed."""
    uids = {u for u in map(uid_of, names) if u is not None}

    def remaining():
        found = {}
        for entry in pathlib.Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and entry.stat().st_uid in uids:
                    found[int(entry.name)] = (entry / "comm").read_text().strip()
            except OSError:
                pass
        return found

    deadline = time.monotonic() + timeout
    while remaining() and time.monotonic() < deadline:
        await asyncio.sleep(1)
    left = remaining()
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return sorted(left.values())


async def keras_class(names, port, admin):
    """The same class on the same hub, after the Rust class has left: fresh logins, each student
    saves the Keras notebook beside notebook 01, opens it on the "keras" kernel and Runs All."""
    killed = await wait_for_processes_to_end(names)
    await reset_hub_users(names, admin)
    notebook = json.loads(KERAS_NOTEBOOK.read_text())
    students = [Student(name, port, KERAS_PATH, "keras", upload=notebook, first_output_ignores_stderr=True)
                for name in names]
    try:
        with MemorySampler(set()) as memory:
            result = await class_run_all(students, memory)
    finally:
        for student in students:
            if student.kernel:
                student.kernel.close()
        await remove_hub_users(names, admin)
    return {"notebook": str(KERAS_NOTEBOOK.relative_to(ROOT)), "kernel": "keras", "students": len(names),
            "first_output": "the first output not on stderr (TensorFlow's start-up log)",
            "rust_class_processes_killed_before": killed, **result}


def ratio(slow, fast):
    return round(slow / fast, 2) if slow and fast else None


def summary_line(report, what):
    run_all, first = report.get("run_all_seconds") or {}, report.get("first_output_seconds") or {}
    accuracies = [a for a in report["accuracies"] if a is not None]
    return (
        f"{report['succeeded']}/{report['students']} students Run-All {what}: "
        f"p50 {run_all.get('p50')} s, p95 {run_all.get('p95')} s, max {run_all.get('max')} s; "
        f"first output p95 {first.get('p95')} s, max {first.get('max')} s; "
        f"accuracy {min(accuracies, default=None)}-{max(accuracies, default=None)}; "
        f"peak memory {report['peak_memory_mb']} MB"
    )


def write_report(report):
    out = STATE / "loadtest.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    return out


async def run(count, checks, keras):
    port = settings()["MNIST_CLASSROOM_PORT"]
    admin = (STATE / "secrets" / "admin_token").read_text().strip()
    names = student_names(count)
    await reset_hub_users(names, admin)
    students = [Student(name, port) for name in names]
    report = {"students": count}
    exit_code = 0
    try:
        with MemorySampler(set()) as memory:
            report.update(await class_run_all(students, memory))
            results = report["per_student"]
            if report["succeeded"] < count:
                exit_code = 1
            write_report(report)
            if checks:
                ready = [s for s in students if s.kernel is not None]
                report["checks"] = {}
                if len(ready) >= 3:
                    other_home = pathlib.Path(f"~{ready[1].name}").expanduser()
                    own_home = pathlib.Path(f"~{ready[0].name}").expanduser()
                    shared = settings()["MNIST_CLASSROOM_SHARED"]
                    report["checks"]["isolation"] = await guarded(
                        check_isolation(ready[0], other_home, own_home, shared))
                    report["checks"]["faults"] = await guarded(check_faults(ready, results))
                    alive = [s for s in ready[2:] if s.kernel is not None]
                    report["checks"]["hub_restart"] = await guarded(check_hub_restart(alive))
                if len(report["checks"]) < 3 or not all(c["passed"] for c in report["checks"].values()):
                    exit_code = 1
                report["peak_memory_mb_with_checks"] = round(memory.peak_pss_mb)
    finally:
        for student in students:
            if student.kernel:
                student.kernel.close()
        await remove_hub_users(names, admin)
    if keras:
        write_report(report)  # the Rust class's results stay even if the Keras class fails
        report["keras"] = await keras_class(names, port, admin)
        if report["keras"]["succeeded"] < count:
            exit_code = 1
        # How many times longer the Keras class waits than the Rust class (> 1: Rust is faster).
        report["keras_over_rust"] = {
            what: ratio((report["keras"].get(what) or {}).get("p95"), (report.get(what) or {}).get("p95"))
            for what in ("run_all_seconds", "first_output_seconds")
        }
    out = write_report(report)
    print(
        summary_line(report, "notebook 01")
        + ("; checks: " + ", ".join(f"{k} {'passed' if v['passed'] else 'FAILED'}"
                                     for k, v in report["checks"].items()) if checks else "")
        + f" ({out.relative_to(ROOT)})"
    )
    if keras:
        print(summary_line(report["keras"], "the Keras notebook"))

        def p95s(what):
            keras_p95 = (report["keras"][what] or {}).get("p95")
            rust_p95 = (report[what] or {}).get("p95")
            return f"{keras_p95} s / {rust_p95} s = {report['keras_over_rust'][what]}x"

        print(f"Keras class / Rust class, p95: Run-All {p95s('run_all_seconds')}; "
              f"first output {p95s('first_output_seconds')}")
    return exit_code


async def idle(count):
    port = settings()["MNIST_CLASSROOM_PORT"]
    admin = (STATE / "secrets" / "admin_token").read_text().strip()
    names = student_names(count)
    await reset_hub_users(names, admin)
    students = [Student(name, port) for name in names]
    before = used_memory_mb()
    try:
        async def up(student):
            await student.login()
            await student.start_server()
        outcomes = await asyncio.gather(*(up(s) for s in students), return_exceptions=True)
        ready = sum(1 for o in outcomes if o is None)
        await asyncio.sleep(30)  # servers settle (imports done, first activity reported)
        sampler = MemorySampler({uid_of(n) for n in names if uid_of(n) is not None})
        pss = statistics.median([sampler.sample() for _ in range(5)])
        report = {"students": count, "servers_running": ready, "classroom_memory_mb": round(pss),
                  "per_server_mb": round(pss / max(ready, 1), 1),
                  "machine_memory_used_mb": {"before": round(before), "with_servers": round(used_memory_mb())}}
    finally:
        await remove_hub_users(names, admin)
    out = STATE / "idle.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{ready}/{count} idle servers: {report['classroom_memory_mb']} MB for the classroom "
          f"({report['per_server_mb']} MB a server); machine memory used "
          f"{report['machine_memory_used_mb']['before']} -> {report['machine_memory_used_mb']['with_servers']} MB "
          f"({out.relative_to(ROOT)})")
    return 0 if ready == count else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["run", "idle"])
    parser.add_argument("students", type=int)
    parser.add_argument("--checks", action="store_true")
    parser.add_argument("--keras", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.students <= 99:
        parser.error("the number of students must be between 1 and 99")
    if args.mode == "run":
        return asyncio.run(run(args.students, args.checks, args.keras))
    if args.checks or args.keras:
        parser.error("--checks and --keras go with run, not idle")
    return asyncio.run(idle(args.students))


if __name__ == "__main__":
    sys.exit(main())
