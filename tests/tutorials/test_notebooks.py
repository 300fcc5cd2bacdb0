"""Every tutorial runs top to bottom in a fresh kernel (2 threads, no network) in bounded time,
and the stored notebook (with its outputs) is what the current code and source produce."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")

from ..notebook_kernel import kernel_spec  # noqa: E402

TUTORIALS = Path(__file__).resolve().parents[2] / "tutorials"
SECONDS_ALLOWED = 180

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="kernel spec paths")


def _load_build():
    spec = importlib.util.spec_from_file_location("tutorials_build", TUTORIALS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()
SOURCES = build.sources()


@pytest.fixture(scope="module")
def kernel():
    with kernel_spec() as name:
        yield name


def _first_difference(stored: list[tuple], fresh: list[tuple]) -> str:
    if len(stored) != len(fresh):
        return f"the stored notebook has {len(stored)} cells, the source makes {len(fresh)}"
    for index, (old, new) in enumerate(zip(stored, fresh)):
        if old[:2] != new[:2]:
            return f"cell {index}'s source differs from the source file's"
        if old[2] != new[2]:
            return f"cell {index} ({new[1][:40]!r}...) showed {list(old[2])} when stored, {list(new[2])} now"
    return ""


def test_every_source_has_a_stored_notebook_and_back():
    stored = {path.stem for path in TUTORIALS.glob("[0-9][0-9]_*.ipynb")}
    assert stored == {source.stem for source in SOURCES}, f"rebuild with: {build.REBUILD}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.stem)
def test_ends_with_an_exercise_and_its_collapsed_solution(source):
    last = build.parse(source).cells[-1]
    assert "solution" in last.metadata.get("tags", [])
    assert last.metadata["jupyter"]["source_hidden"] and last.metadata["collapsed"]


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.stem)
def test_runs_in_bounded_time_and_the_stored_notebook_is_fresh(source, kernel):
    fresh = build.parse(source)
    start = time.perf_counter()
    build.execute(fresh, kernel_name=kernel)
    seconds = time.perf_counter() - start
    assert seconds < SECONDS_ALLOWED, f"{source.stem} took {seconds:.0f} s (allowed {SECONDS_ALLOWED} s)"

    stored = nbformat.read(build.notebook_path(source), as_version=4)
    difference = _first_difference(build.structure(stored), build.structure(fresh))
    assert not difference, (f"tutorials/{source.stem}.ipynb is stale: {difference}. "
                            f"Rebuild it with: {build.REBUILD} {source.stem[:2]}")
