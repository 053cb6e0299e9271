"""Checks on the notebooks, their environment and their rendered output.

    checks/notebooks.py sources    committed notebooks and their solutions: names, structure, no
                                   outputs, code lines that fit the page, a solution to every
                                   exercise; environment.yml parses and pins what scripts/setup installs
    checks/notebooks.py executed   build/notebooks: every notebook and solution ran without an error;
                                   01: test accuracy >= 0.97, at least two SVG plots; 02: Adam and
                                   the epoch written by hand give exactly the crate's Adam and `train`
    checks/notebooks.py browser    build/html/01 in headless Chromium with the network off: the page
                                   loads nothing from outside, and its curves are drawn on screen
"""
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "lib"))
from rust_kernel import NOTEBOOKS, ROOT, dep_line  # noqa: E402

SOLUTIONS = NOTEBOOKS / "solutions"
# Longer code lines scroll sideways in the exported HTML.
MAX_CODE_LINE = 100
FAILURES = []


def check(condition, message):
    print(("ok    " if condition else "FAIL  ") + message)
    if not condition:
        FAILURES.append(message)


def sources():
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    check(len(paths) >= 3, f"{len(paths)} notebooks in notebooks/")
    for path in paths:
        name = path.name
        check(re.fullmatch(r"\d\d-[a-z0-9]+(-[a-z0-9]+)*\.ipynb", name) is not None, f"{name}: named NN-kebab-name")
        cells = json.loads(path.read_text())["cells"]
        code = [c for c in cells if c["cell_type"] == "code"]
        dirty = [i for i, c in enumerate(code) if c.get("outputs") or c.get("execution_count")]
        check(not dirty, f"{name}: no outputs or execution counts committed")
        first = "".join(cells[0]["source"])
        check(first.startswith("# ") and "\n*" in first, f"{name}: opens with an H1 and a one-line subtitle")
        check("What you will learn" in first, f"{name}: says what you will learn")
        setup = [c for c in code if ":dep mnist-mlp" in "".join(c["source"])]
        check(len(setup) == 1 and code[0] is setup[0], f"{name}: one setup cell, first, with the crate's :dep")
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        check("## Summary" in text and "## Exercises" in text, f"{name}: ends with Summary and Exercises")
        lengths = sorted(len("".join(c["source"]).splitlines()) for c in code)
        check(lengths[len(lengths) // 2] <= 4, f"{name}: median code cell is {lengths[len(lengths) // 2]} lines (<= 4)")
        check_line_lengths(name, code)
        check_typed_lets(name, code)
        exercises = re.findall(r"^(\d+)\. ", text.partition("## Exercises")[2], re.M)
        solutions(path, len(exercises))
    extra = sorted(set(SOLUTIONS.glob("*.ipynb")) - {SOLUTIONS / f"{p.stem}-solutions.ipynb" for p in paths})
    check(not extra, f"every solutions notebook belongs to a notebook {[p.name for p in extra]}")

    import yaml

    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    check("conda-forge" in environment.get("channels", []), "environment.yml: uses conda-forge")
    conda = {}
    for dep in environment["dependencies"]:
        if isinstance(dep, str):
            name, _, version = dep.partition("=")
            conda[name.strip()] = version.strip()
    for line in (ROOT / "scripts" / "lib" / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            check(conda.get(name) == version, f"environment.yml pins {name}={version} like scripts/lib/requirements.txt")
    for name in ("python", "rust"):
        check(name in conda, f"environment.yml: has {name}")
    evcxr = re.search(r"^version=(\S+)", (ROOT / "kernel" / "build").read_text(), re.M).group(1)
    check(f"evcxr_jupyter {evcxr}" in (ROOT / "environment.yml").read_text(), f"environment.yml names evcxr_jupyter {evcxr}")


def check_line_lengths(name, code):
    long = [l for c in code for l in "".join(c["source"]).splitlines() if len(l) > MAX_CODE_LINE]
    check(not long, f"{name}: code lines of at most {MAX_CODE_LINE} characters {[l[:40] + '…' for l in long[:2]]}")


def split_top_level(text, separator):
    """`text` split at each `separator` outside brackets (a type's generics, tuples, arrays)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char in "<([{") - (char in ">)]}") if text[i - 1 : i + 1] != "->" else 0
        if depth == 0 and text.startswith(separator, i):
            parts.append(text[start:i])
            start = i + len(separator)
    return parts + [text[start:]]


def untyped_lets(code):
    """The top-level `let`s whose variables' types are not written out as the project's kernel reads
    them without rust-analyzer (kernel/patches/0002): `let [mut] name: Type = …`, or a tuple pattern
    with a tuple type of the same length; a type with a `_` placeholder needs inference."""
    untyped = []
    for cell in code:
        for line in "".join(cell["source"]).splitlines():
            if not line.startswith("let ") or re.match(r"let\s+_\s*=", line):
                continue
            head = split_top_level(line[4:], " = ")[0]
            pattern, _, stated = head.partition(":")
            pattern, stated = pattern.strip(), stated.strip()
            placeholder = re.search(r"(?<![\w'])_(?!\w)", stated)
            if pattern.startswith("(") and stated.startswith("("):
                names = split_top_level(pattern[1:-1], ",")
                types = split_top_level(stated[1:-1], ",")
                typed = len(names) == len(types) and ".." not in pattern
            else:
                typed = re.fullmatch(r"(mut\s+)?[A-Za-z_]\w*", pattern) is not None and stated != ""
            if not typed or placeholder:
                untyped.append(line.strip())
    return untyped


def check_typed_lets(name, code):
    untyped = untyped_lets(code)
    check(not untyped, f"{name}: every top-level `let` states its type, so the kernel needs no analysis {untyped[:3]}")


def solutions(notebook, exercises):
    """The notebook's solutions: one section per exercise, in order, and a setup cell for their folder."""
    path = SOLUTIONS / f"{notebook.stem}-solutions.ipynb"
    check(path.exists(), f"{notebook.name}: its {exercises} exercises have solutions in solutions/{path.name}")
    if not path.exists():
        return
    cells = json.loads(path.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    check(not any(c.get("outputs") or c.get("execution_count") for c in code), f"{path.name}: no outputs committed")
    check(bool(code) and dep_line("../../crates") in "".join(code[0]["source"]),
          f"{path.name}: first cell brings in the crate from solutions/")
    headings = [int(n) for c in cells if c["cell_type"] == "markdown"
                for n in re.findall(r"^## Exercise (\d+)", "".join(c["source"]), re.M)]
    check(headings == list(range(1, exercises + 1)), f"{path.name}: sections Exercise 1–{exercises} in order {headings}")
    check_line_lengths(path.name, code)
    check_typed_lets(path.name, code)


def outputs_text(cell):
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            yield "".join(output["text"])
        for value in output.get("data", {}).values():
            yield "".join(value) if isinstance(value, list) else str(value)


def executed():
    built = ROOT / "build" / "notebooks"
    sources = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")) + sorted(SOLUTIONS.glob("*.ipynb"))
    for source in sources:
        path = built / source.name
        if not path.exists():
            check(False, f"{source.name} was executed (build/notebooks/{source.name})")
            continue
        cells = json.loads(path.read_text())["cells"]
        errors = [o for c in cells for o in c.get("outputs", []) if o["output_type"] == "error"]
        check(not errors, f"{source.name} executed without errors")

    cells = json.loads((built / "02-training-loop-by-hand.ipynb").read_text())["cells"]
    text = "\n".join(t for c in cells for t in outputs_text(c))
    match = re.search(r"epoch by hand vs train: test accuracy (\S+) vs (\S+),\s+largest weight difference (\S+)", text)
    check(match is not None, "02 prints how its hand-written epoch compares with train")
    if match:
        by_hand, by_train, difference = match.groups()
        check(by_hand == by_train, f"02: the epoch by hand reaches train's test accuracy ({by_hand} vs {by_train})")
        check(float(difference) == 0.0, f"02: the epoch by hand gives train's weights bit for bit (difference {difference})")
    match = re.search(r"Adam by hand vs the crate's Adam, 300 steps: largest weight difference\s+(\S+), loss curves apart (\S+)", text)
    check(match is not None, "02 prints how its hand-written Adam compares with the crate's")
    if match:
        weights, curves = (float(x) for x in match.groups())
        check(weights == 0.0 and curves == 0.0, f"02: Adam by hand gives the crate's Adam bit for bit ({weights}, {curves})")

    network_by_hand(cells, text)

    cells = json.loads((built / "01-mnist-classifier.ipynb").read_text())["cells"]
    text = "\n".join(t for c in cells for t in outputs_text(c))
    match = re.search(r"test accuracy: (0\.\d+)", text)
    check(match is not None and float(match.group(1)) >= 0.97, f"01 prints test accuracy >= 0.97 ({match and match.group(1)})")
    svgs = sum(1 for c in cells for o in c.get("outputs", []) if "image/svg+xml" in o.get("data", {}))
    check(svgs >= 3, f"01 shows {svgs} SVG plots (>= 3)")


def output_of(cells, needle):
    """The text output of the first code cell whose source contains `needle`."""
    return "\n".join(outputs_text(next(c for c in cells if needle in "".join(c["source"]))))


def network_by_hand(cells, text):
    """02's claims about the network written by hand, each against what the run printed."""
    match = re.search(r"forward by hand vs apply: largest difference (\S+)", text)
    check(match is not None and float(match.group(1)) == 0.0,
          f"02: the forward pass by hand gives apply's logits exactly ({match and match.group(1)})")
    match = re.search(r"last layer's gradient, by hand vs autograd: weights ([^,\s]+), bias ([^,\s]+), "
                      r"within 1e-6: (\w+)", text)
    check(match is not None and max(float(match.group(1)), float(match.group(2))) < 1e-6 and match.group(3) == "true",
          f"02: the last layer's gradient by hand equals autograd's within 1e-6 ({match and match.groups()})")
    match = re.search(r"finite difference (\S+) vs autograd (\S+): relative difference (\S+), within 1e-2: (\w+)", text)
    check(match is not None and float(match.group(3).rstrip(",")) < 1e-2 and match.group(4) == "true",
          f"02: the finite difference agrees with autograd within 1 % ({match and match.groups()})")
    match = re.search(r"textbook Adam vs the crate's Adam: after 1 step weights (\S+) apart \(< lr: (\w+)\); over 300 "
                      r"steps the batch losses (\S+) apart on average \(< 0\.02: (\w+)\); test accuracy (\S+) vs (\S+) "
                      r"\(within 0\.01: (\w+)\)", text)
    check(match is not None and float(match.group(1)) < 1e-3 and float(match.group(3)) < 0.02
          and abs(float(match.group(5)) - float(match.group(6))) < 0.01,
          f"02: textbook Adam matches the crate's within the stated tolerances ({match and match.groups()})")
    share = float(output_of(cells, "h1.eq(0f32)"))
    check(0.35 < share < 0.65, f"02: ReLU zeroes close to half of h1 ({share})")
    by_hand, candle = (float(x) for x in re.findall(r"[\d.e-]+", output_of(cells, "by_hand.to_scalar::<f32>()?, loss.to_scalar")))
    check(abs(by_hand - 2.3026) < 0.2 and abs(by_hand - candle) < 1e-5,
          f"02: the untrained loss is near ln 10 ({by_hand}, {candle})")
    sgd, adams = (float(x) for x in re.findall(r"[\d.e-]+", output_of(cells, "(mean_size(&sgd_vs_adam)")))
    check(adams < sgd / 3, f"02: the two Adams' difference stays much nearer zero than SGD's ({sgd}, {adams})")


def browser():
    page = ROOT / "build" / "html" / "01-mnist-classifier.html"
    html = page.read_text()
    external = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(https?:[^"]+)"', html)
    check(not external, f"01.html loads nothing from the web {external[:3]}")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    check(chromium is not None, "Chromium is installed")
    if chromium is None:
        return
    with tempfile.TemporaryDirectory() as profile:
        shot = pathlib.Path(profile) / "page.png"
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             # The network is off: every request goes to a proxy that is not there.
             "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
             f"--user-data-dir={profile}/profile", "--hide-scrollbars", "--window-size=1100,9000",
             f"--screenshot={shot}", page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
        from PIL import Image

        data = Image.open(shot).convert("RGB").tobytes()
        counts = {"blue": 0, "orange": 0, "ink": 0}
        for r, g, b in zip(data[0::3], data[1::3], data[2::3]):
            if (r, g, b) == (31, 119, 180):
                counts["blue"] += 1
            elif (r, g, b) == (255, 127, 14):
                counts["orange"] += 1
            elif r < 60 and g < 60 and b < 60:
                counts["ink"] += 1
        check(counts["blue"] > 400 and counts["orange"] > 400, f"the curves are drawn in the browser: {counts}")
        keep = ROOT / "build" / "html" / "01-screenshot.png"
        shutil.copy(shot, keep)
        print(f"      screenshot: {keep}")


if __name__ == "__main__":
    {"sources": sources, "executed": executed, "browser": browser}[sys.argv[1]]()
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        sys.exit(1)
