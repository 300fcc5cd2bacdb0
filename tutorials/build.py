"""Build the tutorial notebooks from their readable sources, execute them, and store them with outputs.

    .venv/bin/python tutorials/build.py            # every notebook
    .venv/bin/python tutorials/build.py 03 05      # the ones whose name starts with 03 or 05

Each notebook's cells live in ``tutorials/source/NN_name.py`` in the "percent" format that
Jupytext, VS Code and Spyder read::

    # %% [markdown]
    # # A title
    # Some *text*.

    # %%
    x = nf.ones(3)

    # %% [raises]            a cell that shows an error on purpose
    # %% [solution]          an exercise's solution: stored collapsed (source hidden)
    # %% [solution raises]   both

The notebook is executed top to bottom in a fresh kernel, in a scratch folder, on two threads with
no network (tests/notebook_kernel.py), and written to ``tutorials/NN_name.ipynb`` with its outputs,
so GitHub and nbconvert show them. tests/tutorials re-executes every notebook and fails when the
stored one no longer matches (see ``structure``).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "source"
ROOT = HERE.parent
REBUILD = ".venv/bin/python tutorials/build.py"

_MARKER = re.compile(r"^# %%(?: \[((?:markdown|raises|solution)(?: (?:raises|solution))?)\])?\s*$")
_TAGS = {"solution": "solution", "raises": "raises-exception"}  # nbclient lets a raises-exception cell fail
_KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def sources() -> list[Path]:
    return sorted(SOURCES.glob("[0-9][0-9]_*.py"))


def notebook_path(source: Path) -> Path:
    return HERE / f"{source.stem}.ipynb"


def _cell(kind: str | None, lines: list[str], index: int):
    kinds = set(kind.split()) if kind else set()
    while lines and not lines[-1].strip():
        lines.pop()
    if "markdown" in kinds:
        text = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines)
        cell = nbformat.v4.new_markdown_cell(text)
    else:
        cell = nbformat.v4.new_code_cell("\n".join(lines))
        tags = [tag for name, tag in _TAGS.items() if name in kinds]
        if tags:
            cell.metadata["tags"] = tags
        if "solution" in kinds:
            cell.metadata.update(collapsed=True, jupyter={"source_hidden": True})
    cell.id = f"cell-{index:02d}"
    return cell


def parse(source: Path):
    """The notebook (not executed) that ``source`` describes."""
    cells, kind, lines = [], None, None
    for line in source.read_text().splitlines():
        match = _MARKER.match(line)
        if match:
            if lines is not None:
                cells.append(_cell(kind, lines, len(cells)))
            kind, lines = match.group(1), []
        elif lines is not None:
            if lines or line.strip():  # drop blank lines right after a marker
                lines.append(line)
    if lines is not None:
        cells.append(_cell(kind, lines, len(cells)))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = dict(_KERNELSPEC)
    return notebook


def _output_kind(output) -> str:
    if output.output_type == "stream":
        return f"stream:{output.name}"
    if output.output_type == "error":
        return f"error:{output.ename}"
    return f"{output.output_type}:{','.join(sorted(output.get('data', {})))}"


def structure(notebook) -> list[tuple]:
    """What must match between a stored notebook and a fresh run: cells, sources, and kinds of output.

    Numbers and timings may differ between runs; the kinds of output each cell shows may not. The
    kinds are compared as a set: the kernel flushes a stream on a timer, so whether printed text
    arrives before or after a display (or in one piece or three) depends on the machine's load.
    """
    shape = []
    for cell in notebook.cells:
        kinds = sorted({_output_kind(output) for output in cell.get("outputs", [])})
        shape.append((cell.cell_type, cell.source, tuple(kinds)))
    return shape


def execute(notebook, kernel_name: str | None = None, timeout: int = 180):
    """Run ``notebook`` in place in a scratch folder, so the files it writes don't land in tutorials/."""
    sys.path.insert(0, str(ROOT))
    try:
        from tests.notebook_kernel import execute as run
    finally:
        sys.path.remove(str(ROOT))
    with tempfile.TemporaryDirectory() as scratch:
        run(notebook, cwd=scratch, timeout=timeout, kernel_name=kernel_name)
    notebook.metadata["kernelspec"] = dict(_KERNELSPEC)
    return notebook


def _machine_paths() -> list[tuple[str, str]]:
    """Prefixes of this machine's paths and what the stored notebooks say instead."""
    return [(str(ROOT) + os.sep, ""), (str(ROOT), "."), (os.path.expanduser("~"), "~")]


def strip_machine_paths(notebook) -> None:
    """Make the outputs independent of where the repository lies (tracebacks, tool paths)."""
    replacements = _machine_paths()

    def clean(text):
        if isinstance(text, list):
            return [clean(t) for t in text]
        if not isinstance(text, str):
            return text
        for old, new in replacements:
            text = text.replace(old, new)
        return text

    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = clean(output["text"])
            if "traceback" in output:
                output["traceback"] = clean(output["traceback"])
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") or mime == "image/svg+xml":
                    output["data"][mime] = clean(value)


def build(source: Path, kernel_name: str | None = None) -> float:
    """Parse, execute and write one notebook; returns the seconds it took to run."""
    notebook = parse(source)
    start = time.perf_counter()
    execute(notebook, kernel_name)
    seconds = time.perf_counter() - start
    strip_machine_paths(notebook)
    nbformat.write(notebook, notebook_path(source))
    return seconds


def main(prefixes: list[str]) -> None:
    chosen = [s for s in sources() if not prefixes or any(s.stem.startswith(p) for p in prefixes)]
    if not chosen:
        raise SystemExit(f"no tutorial source matches {prefixes} in {SOURCES}")
    for source in chosen:
        print(f"{source.stem}: {build(source):.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
