"""A notebook saved after ``fit`` keeps the dashboard's final picture (the static fallback nbconvert,
GitHub and a kernel-less reopen show), not the empty chart it started with. Runs a real kernel."""

import re

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipywidgets")

DATA = """import nbframe as nf
nf.manual_seed(0)
X = nf.randn(64, 4)
y = (X[:, 0] > 0).long()
"""


def _curve_points(output) -> list[int]:
    svg = output["data"]["image/svg+xml"]
    return [len(points.split()) for points in re.findall(r'<polyline[^>]* points="([^"]*)"', svg)]


def test_the_saved_dashboard_output_shows_the_final_curves_of_fit_and_of_later_overlaid_runs(tmp_path):
    from ..notebook_kernel import execute

    cells = [DATA + "h = nf.fit(nf.nn.Linear(4, 2), (X, y), val=(X, y), epochs=3, batch_size=16)",
             "dash = nf.widgets.TrainingDashboard()\n"
             "h1 = nf.fit(nf.nn.Linear(4, 2), (X, y), epochs=2, batch_size=16, progress=dash, run='first')",
             "h2 = nf.fit(nf.nn.Linear(4, 2), (X, y), epochs=2, batch_size=16, progress=dash, run='second')\n"
             "print(h2.stopped)"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    execute(notebook, tmp_path, timeout=120)
    fit_cell, first_cell, second_cell = (cell.outputs for cell in notebook.cells)

    shown = fit_cell[0]
    assert "application/vnd.jupyter.widget-view+json" in shown["data"]
    assert "no data yet" not in shown["data"]["image/svg+xml"]
    points = _curve_points(shown)
    assert points and all(n > 0 for n in points) and max(points) == 12  # 3 epochs x 4 steps
    assert "done" in shown["data"]["text/plain"] and "epoch 3/3" in shown["data"]["text/plain"]

    # the overlaid run in a later cell refreshes the picture where the dashboard is shown
    overlaid = first_cell[0]["data"]["image/svg+xml"]
    assert 'data-name="first: loss"' in overlaid and 'data-name="second: loss"' in overlaid
    assert [o["output_type"] for o in second_cell] == ["stream"]
