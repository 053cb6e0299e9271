"""Checks on the notebooks, their environment and their rendered output.

    checks/notebooks.py sources    committed notebooks and their solutions: names, structure, no
                                   outputs, code lines that fit the page, a solution to every
                                   exercise; environment.yml parses and pins what scripts/setup installs
    checks/notebooks.py executed   build/notebooks: every notebook and solution ran without an error;
                                   01: test accuracy >= 0.97, at least two SVG plots; 02: Adam and
                                   the epoch written by hand give exactly the crate's Adam and `train`;
                                   each claim of the prose about a run's output holds for the output
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

    try:
        prose_claims(built)
    except (StopIteration, ValueError, KeyError, IndexError, AttributeError, TypeError, ZeroDivisionError) as error:
        check(False, f"the prose's claims can be read in the executed notebooks ({type(error).__name__}: {error})")


def output_of(cells, needle):
    """The text output of the first code cell whose source contains `needle`."""
    return "\n".join(outputs_text(next(c for c in cells if c["cell_type"] == "code" and needle in "".join(c["source"]))))


def numbers(text):
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)]


def history_rows(html):
    """The rows of a `History` table (epoch, train loss, train accuracy, test loss, test accuracy, seconds)."""
    return [numbers(row) for row in re.findall(r"<tr><td>.*?</tr>", html)]


def printed_epochs(text):
    """(train loss, test loss) of each line `print_epochs` printed."""
    return [(float(a), float(b)) for a, b in re.findall(r"epoch \d+: loss (\S+),.*?test loss (\S+),", text)]


def bars(svg):
    """The ten values of a `plot::probabilities` chart, read off its bars against its y axis."""
    ticks = {float(v): float(y) for y, v in re.findall(r'<text[^>]* y="([\d.]+)"[^>]*text-anchor="end"[^>]*>\s*([\d.]+)\s*<', svg)}
    top = max(ticks)
    per_unit = (ticks[0.0] - ticks[top]) / top
    rects = re.findall(r'<rect x="([\d.]+)"[^>]* height="([\d.]+)"[^>]*fill="#(?:1F77B4|FF7F0E)"', svg)
    return [float(h) / per_unit for _, h in sorted(rects, key=lambda r: float(r[0]))]


def loss_curves(svg):
    """The training and test loss curves of a `plot::history` chart, as SVG y coordinates (down is lower)."""
    lines = re.findall(r'<polyline[^>]*stroke="#(?:1F77B4|FF7F0E)"[^>]*points="([^"]*)"', svg)
    return [[float(p.split(",")[1]) for p in line.split()] for line in lines[:2]]


def projection(svg):
    """A `plot::projection` chart: the points of each digit, and the largest value on its x axis."""
    legend = re.findall(r'<circle [^>]*r="5"[^>]*fill="#([0-9A-F]+)"', svg)
    digits = {}
    for x, y, colour in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="2"[^>]*fill="#([0-9A-F]+)"', svg):
        digits.setdefault(legend.index(colour), []).append((float(x), float(y)))
    ticks = [abs(float(v)) for v in re.findall(r'text-anchor="middle"[^>]*>\s*(-?[\d.]+)\s*<', svg)]
    return digits, max(ticks)


def spread(points):
    """Root mean square distance from the points' centre, and the centre."""
    cx, cy = (sum(p[i] for p in points) / len(points) for i in (0, 1))
    return (sum((x - cx) ** 2 + (y - cy) ** 2 for x, y in points) / len(points)) ** 0.5, (cx, cy)


def load(built, name):
    return json.loads((built / name).read_text())["cells"]


def prose_claims(built):
    """The prose's claims about what a run printed or drew, each against the executed output. Claims
    that would hold for any seed are worded so instead; these are the ones that name this run."""
    cells = load(built, "00-logits-softmax-cross-entropy-solutions.ipynb")
    works, ln_max = numbers(output_of(cells, "f32::MAX.ln()"))
    check((works, ln_max) == (88.72283, 88.72284),
          f"solutions 00: the last logit that works is the f32 below ln(f32::MAX) ({works}, {ln_max})")

    cells = load(built, "01-mnist-classifier.ipynb")
    untrained = output_of(cells, "evaluate(&model, &data.test_images, &data.test_labels)?")
    loss, accuracy = (float(re.search(f"<th>{k}</th><td>([^<]+)</td>", untrained).group(1)) for k in ("loss", "accuracy"))
    check(abs(loss - 2.3026) < 0.3 and 0.03 < accuracy < 0.2,
          f"01: the untrained model's loss is near ln 10 and its accuracy not far from 10 % ({loss}, {accuracy})")
    epochs = printed_epochs(output_of(cells, "print_epochs(progress)"))
    train_losses = [e[0] for e in epochs]
    check(len(epochs) == 5 and epochs[0][0] > epochs[0][1], f"01: epoch 1's training loss is above its test loss {epochs[:1]}")
    check(all(a > b for a, b in zip(train_losses, train_losses[1:])), f"01: the training loss keeps falling {train_losses}")
    moves = [abs(a[1] - b[1]) for a, b in zip(epochs, epochs[1:])]
    check(max(moves) < 0.1 < loss - epochs[0][1], f"01: the test loss moves much less after the first epoch {moves}")
    lowest = numbers(output_of(cells, "min_by(|a, b| a.test_loss"))
    check(lowest[0] < 5, f"01: the test loss was lowest before epoch 5, as solutions 01 says ({lowest})")

    cells = load(built, "01-mnist-classifier-solutions.ipynb")
    ten = history_rows(output_of(cells, "epochs: 10"))
    check(len(ten) == 10 and 0.3 < ten[9][1] / ten[4][1] < 0.7,
          f"solutions 01: epoch 10's training loss is about half of epoch 5's ({ten[4][1]}, {ten[9][1]})")
    seeds = numbers(" ".join(re.findall(r"test accuracy (\S+)", output_of(cells, "for seed in [7, 8, 9]"))))
    check(0.001 <= max(seeds) - min(seeds) < 0.01, f"solutions 01: three seeds differ in the third decimal {seeds}")
    fast, slow = numbers(output_of(cells, "(fast.test_accuracy(), slow.test_accuracy())"))
    slow_losses = loss_curves(output_of(cells, "learning_rate: 0.0001"))
    check(len(slow_losses) == 2 and all(curve[-1] > curve[-2] for curve in slow_losses),
          f"solutions 01: at lr 0.0001 both losses still fall in epoch 5 (y {slow_losses})")
    batches = re.findall(r"batch +(\d+): (\S+) s/epoch, test accuracy (\S+)", output_of(cells, "batch_size: 128"))
    (_, s32, a32), (_, s128, a128) = [(int(b), float(s), float(a)) for b, s, a in batches]
    check(fast < a32, f"solutions 01: lr 0.01 ends below the recipe's accuracy ({fast} < {a32})")
    check(s128 < s32 and a128 >= a32, f"solutions 01: batch 128 is faster per epoch and no less accurate ({batches})")
    regression = re.search(r"784 → 10, seed 42: \d+ parameters, test accuracy (\S+)", output_of(cells, "vec![256, 128]"))
    check(regression is not None and 0.9 < float(regression.group(1)) < 0.94,
          f"solutions 01: softmax regression reaches about 92 % ({regression and regression.group(1)})")

    cells = load(built, "02-training-loop-by-hand.ipynb")
    before, after = numbers(output_of(cells, "\none_step(&data)?"))
    check(after < before, f"02: one SGD step lowers the batch's loss ({before} → {after})")
    sgd = float(output_of(cells, "train_sgd(&data, 300, 0.1)?"))
    check(sgd > 0.5, f"02: 300 SGD steps already read most test digits ({sgd})")

    cells = load(built, "02-training-loop-by-hand-solutions.ipynb")
    means = numbers(output_of(cells, "l[250..]"))
    check(means[1] < min(means[0], means[2]), f"solutions 02: lr 0.1 ends lowest of 0.01, 0.1, 1.0 {means}")
    changes = numbers(" ".join(re.findall(r"largest change (\S+)", output_of(cells, "largest change"))))
    check(len(changes) == 6 and max(changes) < 10 * min(changes), f"solutions 02: the six largest changes are of one order {changes}")
    with_first, without_first = numbers(output_of(cells, "(with_first, without_first)"))
    check(abs(with_first - 1e-3) < 1e-5 and 3.0e-3 < without_first < 3.3e-3,
          f"solutions 02: the first Adam step is lr with the correction, about 3.2 lr without ({with_first}, {without_first})")
    check(output_of(cells, "autograd[2]").strip().endswith("true)"),
          "solutions 02: dense2's gradient by hand equals autograd's within 1e-6")
    relative = {float(e): float(r) for e, r in re.findall(r"ε (\S+): finite difference \S+, relative difference (\S+)",
                                                          output_of(cells, "for eps in"))}
    best = min(relative, key=relative.get)
    check(best in (1e-2, 1e-3) and relative[1e-5] > relative[1e-3],
          f"solutions 02: the finite difference is best near ε = 1e-3 and worse at 1e-5 {relative}")
    check(output_of(cells, "epochs_by_hand(&data, 2)").strip() == "0.0", "solutions 02: two epochs by hand equal train's bit for bit")

    cells = load(built, "03-experiments.ipynb")
    table = {name.strip(): numbers(rest) for name, rest in
             re.findall(r"^(.{24}) +(\d\.\d+ +\d\.\d+ +\d+\.\d+)$", output_of(cells, "for Run { name, history"), re.M)}
    valid = {name: row[1] for name, row in table.items()}
    seconds = {name: row[2] for name, row in table.items()}
    check(valid.get("hidden []", 1) < min(valid[f"hidden {h}"] for h in ("[128]", "[128, 64]", "[128, 64, 64]")) - 0.02,
          f"03: softmax regression is clearly weaker than the deeper models {valid}")
    check(valid.get("lr 0.0001", 1) < valid.get("lr 0.001", 0) - 0.01 and valid.get("lr 0.01", 1) < valid.get("lr 0.001", 0),
          "03: lr 0.0001 is far behind after three epochs, and lr 0.01 ends below lr 0.001")
    check(seconds.get("batch 8", 0) > seconds.get("batch 32", 0) > seconds.get("batch 256", 1),
          f"03: smaller batches cost more time per epoch {[seconds.get(f'batch {b}') for b in (8, 32, 256)]}")
    long = history_rows(output_of(cells, 'run("15 epochs"'))
    lowest = min(long, key=lambda row: row[3]) if long else [0]
    check(len(long) == 15 and lowest[0] < 15 and long[-1][1] < long[0][1] / 10,
          f"03: in 15 epochs the training loss falls towards zero and the validation loss turns up (lowest at epoch {lowest[0]})")
    fashion = printed_epochs(output_of(cells, "&fashion, &TrainConfig::default(), print_epochs"))
    fashion_accuracy = float(re.findall(r"test accuracy (\S+) \(",
                                        output_of(cells, "&fashion, &TrainConfig::default(), print_epochs"))[-1])
    check(len(fashion) == 5 and fashion_accuracy < 0.92, f"03: Fashion-MNIST stays well below MNIST ({fashion_accuracy})")

    cells = load(built, "03-experiments-solutions.ipynb")
    widths = re.findall(r"784-(\d+)-64-10: validation accuracy \S+, (\S+) s/epoch", output_of(cells, "for units in"))
    check(len(widths) == 2 and float(widths[1][1]) > 1.3 * float(widths[0][1]),
          f"solutions 03: 1,024 units cost markedly more time than 512 {widths}")
    settings = [numbers(line) for line in re.findall(r"validation accuracy (\S+, \S+) s/epoch", output_of(cells, "let settings"))]
    (a32, s32), (a256, s256), (a256_fast, s256_fast) = settings
    check(a256 < a32 and a256_fast - a256 > (a32 - a256) / 2 and max(s256, s256_fast) < s32,
          f"solutions 03: batch 256 falls behind, lr 0.004 wins back much of the gap, and both are faster {settings}")
    smaller, larger = numbers(output_of(cells, "run(&larger"))
    check(larger > smaller, f"solutions 03: 50,000 images raise the validation accuracy ({smaller} → {larger})")
    original, wider = numbers(output_of(cells, "(original, wider)"))
    check(0 < wider - original < 0.03, f"solutions 03: width helps a little on Fashion-MNIST ({original} → {wider})")

    cells = load(built, "04-your-own-digits.ipynb")
    naive = bars(output_of(cells, "resize_exact"))
    check(len(naive) == 10 and max(naive) > 0.9 and naive.index(max(naive)) != 4,
          f"04: unprepared, the photo of a 4 gets one tall bar on another digit {[round(p, 2) for p in naive]}")

    cells = load(built, "04-your-own-digits-solutions.ipynb")
    captions = {name: (float(p1), float(p7)) for name, p1, p7 in
                re.findall(r">\s*([^<>]+?): P\(1\) (\S+), P\(7\) ([\d.]+)", output_of(cells, "P(1) {:.2}"))}
    check(captions.get("7, short bar", (0, 1))[0] > 0.5 and captions.get("7", (1, 0))[1] > 0.5
          and captions.get("1", (0, 1))[0] > 0.5, f"solutions 04: the 7 reads as a 7, with its bar shortened as a 1 {captions}")
    pair = bars(output_of(cells, "plot::probabilities(&model.probabilities(&prepared"))
    check(len(pair) == 10 and 0.8 < max(pair) < 0.97, f"solutions 04: the two digits get an answer close to 0.9 ({max(pair):.2f})")
    tilted = re.findall(r"(\d+)°: (\d) \(", output_of(cells, "rotate(&four"))
    check([d for _, d in tilted][:2] == ["4", "4"] and tilted[-1][1] != "4",
          f"solutions 04: small tilts are read as a 4, 45° is not {tilted}")

    cells = load(built, "05-what-the-model-learned.ipynb")
    wrong = re.search(r"<th>misclassified</th><td>(\d+) of", output_of(cells, "\nevaluation"))
    check(wrong is not None and 100 <= int(wrong.group(1)) < 1000,
          f"05: a few hundred test digits are wrong ({wrong and wrong.group(1)})")
    confident = numbers(" ".join(re.findall(r"→\d \((\S+)\)", output_of(cells, "gallery::mistakes"))))
    check(len(confident) == 36 and max(confident) >= 0.9,
          f"05: some of the mistakes shown are confident ({max(confident, default=0)})")
    blank, largest, _, _ = numbers(output_of(cells, "blank.len(), largest"))
    check(blank > 0 and largest == 0.0, f"05: no weight of a blank pixel moved ({blank}, {largest})")
    top3 = re.findall(r"(\d) taken for (\d)", output_of(cells, "confusions.sort()"))
    before, before_axis = projection(output_of(cells, "untrained\", &hidden"))
    after, after_axis = projection(output_of(cells, "trained\", &hidden(&model"))
    def within(digits):  # how tight each digit's cloud is, against the whole cloud
        return sum(spread(p)[0] for p in digits.values()) / len(digits) / spread([q for p in digits.values() for q in p])[0]
    rest = [q for d, p in before.items() if d != 1 for q in p]
    (ones_x, ones_y), (rest_x, rest_y) = spread(before[1])[1], spread(rest)[1]
    apart = ((ones_x - rest_x) ** 2 + (ones_y - rest_y) ** 2) ** 0.5 / spread(rest)[0]
    check(apart > 0.6, f"05: untrained, the 1s sit apart from the rest ({apart:.2f} of the rest's spread)")
    check(within(after) < 0.6 < within(before),
          f"05: training gathers each digit's images ({within(before):.2f} → {within(after):.2f} of the whole cloud)")
    check(5 <= after_axis / before_axis <= 20,
          f"05: the trained projection spreads about ten times wider ({before_axis} → {after_axis})")

    cells = load(built, "05-what-the-model-learned-solutions.ipynb")
    lowest_digit = re.match(r"\(\((\d)", output_of(cells, "let per_digit").strip())
    check(lowest_digit is not None and any(lowest_digit.group(1) in pair for pair in top3),
          f"solutions 05: the lowest digit is among 05's most frequent confusions {top3}")
    early, final = numbers(output_of(cells, "(early.accuracy, evaluation.accuracy)"))
    check(0 < final - early < 0.02, f"solutions 05: after one epoch the accuracy is close to the final one ({early}, {final})")
    recipe_dead = numbers(output_of(cells, "dead_units(&model, &data.train_images)?"))
    fast_dead = numbers(output_of(cells, "dead_units(&fast").partition("[")[2])
    check(len(recipe_dead) < 10 and len(fast_dead) > 2 * len(recipe_dead) + 5,
          f"solutions 05: the recipe's model has few dead units, lr 0.01 many more ({len(recipe_dead)}, {len(fast_dead)})")


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
