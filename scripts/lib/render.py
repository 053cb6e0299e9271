"""Runs every notebook in notebooks/ and its solutions in notebooks/solutions/ on the Rust kernel,
writes the executed copies to build/notebooks/ and self-contained HTML (plots inline) to
build/html/, with an index page. Prints each notebook's wall time; exits 1 if any cell failed.
Arguments name notebooks relative to notebooks/: `01-mnist-classifier.ipynb`,
`solutions/01-mnist-classifier-solutions.ipynb`."""
import html
import pathlib
import re
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter
from nbconvert.preprocessors import CoalesceStreamsPreprocessor

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
EXECUTED = ROOT / "build" / "notebooks"
HTML = ROOT / "build" / "html"


def code_spans(text):
    """Markdown's `code` as HTML, for the index page's subtitles."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def title_and_subtitle(notebook):
    """The notebook's H1 and the italic line under it."""
    lines = "".join(notebook.cells[0].source).splitlines()
    title = next((l[2:].strip() for l in lines if l.startswith("# ")), "")
    subtitle = next((l.strip("*_ ") for l in lines if l.startswith(("*", "_"))), "")
    return title, subtitle


def run(path):
    notebook = nbformat.read(path, as_version=4)
    # The kernel starts in the notebook's own folder, as in JupyterLab: `:dep` paths are relative to it.
    client = NotebookClient(notebook, timeout=1200, kernel_name="rust", resources={"metadata": {"path": str(path.parent)}})
    started = time.monotonic()
    error = None
    try:
        client.execute()
    except CellExecutionError as failure:
        error = str(failure)
    seconds = time.monotonic() - started
    # Merge the stream pieces of each cell, so the exported page shows clean text.
    notebook, _ = CoalesceStreamsPreprocessor().preprocess(notebook, {})
    nbformat.write(notebook, EXECUTED / path.name)
    exporter = HTMLExporter(template_name="handout", extra_template_basedirs=[str(ROOT / "scripts" / "lib")], embed_images=True)
    body, _ = exporter.from_notebook_node(notebook)
    (HTML / path.with_suffix(".html").name).write_text(body, encoding="utf-8")
    return notebook, seconds, error


def all_notebooks():
    """The notebooks in order, each followed by its solutions."""
    solutions = NOTEBOOKS / "solutions"
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")):
        yield path
        yield from sorted(solutions.glob(f"{path.stem}-solutions.ipynb"))


def main():
    EXECUTED.mkdir(parents=True, exist_ok=True)
    HTML.mkdir(parents=True, exist_ok=True)
    names = sys.argv[1:]
    paths = [NOTEBOOKS / n for n in names] if names else list(all_notebooks())
    rows, failed = [], []
    for path in paths:
        print(f"running {path.name} ...", flush=True)
        notebook, seconds, error = run(path)
        print(f"  {path.name}: {seconds:.1f} s{'  FAILED' if error else ''}", flush=True)
        if error:
            failed.append(path.name)
            print(error, file=sys.stderr)
        rows.append((path, seconds))
    # The index lists every notebook whose page exists, also when only some were rendered now.
    def page(notebook):
        return notebook.with_suffix(".html").name

    items = []
    for p in sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")):
        if not (HTML / page(p)).exists():
            continue
        t, s = title_and_subtitle(nbformat.read(p, as_version=4))
        solutions = NOTEBOOKS / "solutions" / f"{p.stem}-solutions.ipynb"
        link = f' · <a href="{page(solutions)}">solutions</a>' if (HTML / page(solutions)).exists() else ""
        items.append(f'<li><a href="{page(p)}">{html.escape(t)}</a>{link}<br><small>{code_spans(html.escape(s))}</small></li>')
    items = "\n".join(items)
    (HTML / "index.html").write_text(
        "<!doctype html><meta charset=utf-8><title>MNIST in Rust notebooks</title>"
        "<style>body{font-family:sans-serif;max-width:44em;margin:3em auto;line-height:1.5}li{margin:1em 0}</style>"
        f"<h1>MNIST in Rust notebooks</h1><p>The notebooks, executed.</p><ol>{items}</ol>\n",
        encoding="utf-8",
    )
    print("\nwall time per notebook:")
    for path, seconds in rows:
        print(f"  {seconds:7.1f} s  {path.name}")
    print(f"HTML in {HTML}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
