"""Widgets after a page reload in JupyterLab (issue 5): with the kernel alive they render again from its
state; with the kernel gone the saved notebook's static fallback picture should show (a known gap: xfail)."""

from __future__ import annotations

import re
import time

import pytest

from .notebook_ui import (
    KERNEL,
    KERNEL_READY_TIMEOUT,
    code_cell,
    errors_shown,
    expect,
    open_notebook,
    outputs,
    run_all,
    run_command,
    write_notebook,
)
from .test_graph_view import SETUP as GRAPH_SETUP
from .test_training_dashboard import CURVE, FIT, STEPS_PER_EPOCH, curve
from .test_training_dashboard import SETUP as FIT_SETUP

EPOCHS = 2
FIT_CELL = FIT_SETUP.removeprefix("%load_ext nbframe\n") + "\n" + FIT.format(epochs=EPOCHS)
CELLS = [GRAPH_SETUP, "view", FIT_CELL]
GRAPH, DASHBOARD = 1, 2  # code cell indices
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def run_and_save(page, lab, name: str) -> int:
    """Open and run the notebook, save it; return the graph's node count (checked on the live page)."""
    open_notebook(page, lab, write_notebook(lab, name, CELLS))
    run_all(page)
    assert errors_shown(page) == []
    nodes = int(re.search(r"nodes: (\d+)", outputs(page, 0).inner_text()).group(1))
    expect(outputs(page, GRAPH).locator("svg g.node")).to_have_count(nodes)
    assert curve(page, DASHBOARD)["points"] == EPOCHS * STEPS_PER_EPOCH
    run_command(page, "File", "docmanager:save")
    saved = saved_cells(lab, name)
    for index in (GRAPH, DASHBOARD):  # the saved outputs hold the widget view and its static picture
        data = saved[index]["outputs"][-1]["data"]
        assert WIDGET_VIEW in data and "image/svg+xml" in data, f"cell {index} saved only {sorted(data)}"
    return nodes


def saved_cells(lab, name: str, timeout: float = 15.0) -> list[dict]:
    """The notebook's cells as the server has them on disk, once the save has written the outputs."""
    deadline = time.monotonic() + timeout
    while True:
        cells = lab.api(f"contents/{name}")["content"]["cells"]
        if all(cells[index]["outputs"] for index in (GRAPH, DASHBOARD)) or time.monotonic() > deadline:
            return cells
        time.sleep(0.2)


def wait_kernel_idle(page) -> None:
    kernel_idle = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(rf"^\s*{KERNEL} \| Idle\s*$"))
    kernel_idle.wait_for(timeout=KERNEL_READY_TIMEOUT)


def test_after_a_reload_the_widgets_render_again_from_the_running_kernel(page, lab, artifacts):
    nodes = run_and_save(page, lab, "reload_live.ipynb")
    page.reload()
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=KERNEL_READY_TIMEOUT)
    wait_kernel_idle(page)
    # the live widget (its node picker), not the saved picture
    expect(outputs(page, GRAPH).locator(".widget-dropdown select")).to_have_count(1)
    expect(outputs(page, GRAPH).locator("svg g.node")).to_have_count(nodes)
    expect(outputs(page, DASHBOARD).locator("button.widget-button", has_text="Stop")).to_have_count(1)
    page.wait_for_function(f"() => ({CURVE})({DASHBOARD}).points === {EPOCHS * STEPS_PER_EPOCH}")
    assert errors_shown(page) == []
    page.screenshot(path=str(artifacts / "reload-live-graph.png"))
    code_cell(page, DASHBOARD).scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "reload-live-dashboard.png"))


# Known gap (issue 5): JupyterLab's widget renderer outranks image/svg+xml, and in a fresh kernel the saved
# widget models don't exist (the lab doesn't save widget state by default), so the outputs say "Error
# displaying widget: model not found" instead of falling back to the saved picture. Python can't change
# that choice: it needs the lab's @jupyter-widgets/jupyterlab-manager "saveState" setting or a front-end
# fallback.
@pytest.mark.xfail(strict=True, reason="JupyterLab renders the widget view (model not found) rather than "
                   "the saved image/svg+xml fallback when the kernel that owned the widgets is gone")
def test_after_a_reload_without_the_kernel_the_saved_static_picture_shows(page, lab, artifacts):
    run_and_save(page, lab, "reload_no_kernel.ipynb")
    lab.shutdown_kernels()
    page.reload()
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=KERNEL_READY_TIMEOUT)
    wait_kernel_idle(page)  # a fresh kernel: none of the saved widget models exists in it
    try:
        graph = outputs(page, GRAPH).locator(".jp-OutputArea-output[data-mime-type='image/svg+xml']")
        expect(graph).to_have_count(1, timeout=10_000)
        expect(graph.locator("img, svg")).to_have_count(1)
        dashboard = outputs(page, DASHBOARD).locator(".jp-OutputArea-output[data-mime-type='image/svg+xml']")
        expect(dashboard).to_have_count(1)
    finally:
        page.screenshot(path=str(artifacts / "reload-no-kernel.png"))
