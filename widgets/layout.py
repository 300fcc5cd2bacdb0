"""DOT -> SVG with graphviz: the ``dot`` on PATH, else the ``graphviz-pure`` binary installed with nbframe.

If neither runs, ``to_svg`` returns None and callers show the DOT text plus
``INSTALL_HINT`` — a missing binary never breaks a notebook.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig

INSTALL_HINT = ("no graphviz layout engine ran, so this is the DOT source; for a picture install graphviz "
                "(`pip install graphviz-pure`, or your system's `graphviz` package, which provides `dot`)")


def find_engine() -> str | None:
    """The ``dot`` on PATH, else ``graphviz-pure`` among this Python's scripts (or on PATH), else None."""
    found = shutil.which("dot")
    if found:
        return found
    scripts = sysconfig.get_path("scripts")
    for name in ("graphviz-pure", "graphviz-pure.exe"):
        candidate = os.path.join(scripts, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("graphviz-pure")


def engine_version(engine: str) -> str:
    """The first line ``engine -V`` prints (graphviz writes it to stderr), or why it did not run."""
    try:
        run = subprocess.run([engine, "-V"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"does not run ({exc})"
    said = (run.stderr or run.stdout).strip()
    return said.splitlines()[0] if said else "?"


def render(dot: str, engine: str | None = None, timeout: float = 60) -> tuple[str | None, str | None]:
    """``(svg, None)``, or ``(None, why not)`` when no engine ran or it failed."""
    engine = engine or find_engine()
    if engine is None:
        return None, INSTALL_HINT
    try:
        run = subprocess.run([engine, "-Kdot", "-Tsvg"], input=dot, capture_output=True, text=True,
                             timeout=timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"graphviz ({engine}) did not run: {exc}; {INSTALL_HINT}"
    if run.returncode != 0 or "<svg" not in run.stdout:
        first = (run.stderr.strip().splitlines() or ["no output"])[0]
        return None, f"graphviz ({engine}) failed: {first}; this is the DOT source"
    return run.stdout[run.stdout.index("<svg"):], None


def to_svg(dot: str, engine: str | None = None) -> str | None:
    """The SVG, or None when no layout engine ran."""
    return render(dot, engine)[0]
