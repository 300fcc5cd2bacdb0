"""The dashboard's controls in JupyterLab: the log-scale toggle redraws while ``fit`` still runs, and the Stop
button is red only while a run is in progress — grey and disabled after it, enabled again by the next ``fit``.

Both controls' clicks are comm messages on the shell channel; the dashboard pins their comms to a kernel
subshell, so ipykernel handles them while the main shell is busy in the training cell.
"""

from __future__ import annotations

import re

from .notebook_ui import (
    errors_shown,
    expect,
    open_notebook,
    outputs,
    run_cell,
    start_cell,
    wait_cell_done,
    write_notebook,
)
from .test_training_dashboard import SETUP, wait_for_curve

FIT = ("{name} = nf.fit(model, (X, y), epochs=1000, batch_size=32, lr=1e-2, callbacks=[pace], progress=dash, "
       "run='{name}')")
RUNNING = """(index) => document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')[index]
  .textContent.includes('*')"""


def test_log_scale_applies_mid_run_and_stop_is_greyed_out_between_runs(page, lab, artifacts):
    cells = [f"{SETUP}\nfrom nbframe.widgets import TrainingDashboard\ndash = TrainingDashboard()",
             FIT.format(name="first"), FIT.format(name="second")]
    open_notebook(page, lab, write_notebook(lab, "dashboard_controls.ipynb", cells))
    run_cell(page, 0)
    start_cell(page, 1)
    wait_for_curve(page, 10)
    dashboard = outputs(page, 1)  # the second fit draws into the same dashboard, shown under the first
    stop = dashboard.locator("button.widget-button", has_text="Stop")
    expect(stop).to_be_enabled()
    expect(stop).to_have_class(re.compile(r"\bmod-danger\b"))

    dashboard.locator("button.widget-toggle-button", has_text="log scale").click()
    expect(dashboard.locator('svg[data-y-scale="log"]')).to_be_attached(timeout=10_000)
    assert page.evaluate(RUNNING, 1), "the log scale must be drawn while fit still runs, not after"
    page.screenshot(path=str(artifacts / "dashboard-log-scale-mid-run.png"))

    stop.click()
    wait_cell_done(page, 1, timeout=20_000)
    expect(dashboard).to_contain_text("stopped: stop button")
    expect(stop).to_be_disabled()
    expect(stop).not_to_have_class(re.compile(r"\bmod-(danger|warning)\b"))  # grey: no run in progress
    expect(stop).to_have_attribute("title", re.compile("No run in progress"))
    page.screenshot(path=str(artifacts / "dashboard-stop-idle.png"))

    start_cell(page, 2)
    expect(stop).to_be_enabled(timeout=20_000)  # a new fit on the same dashboard: Stop works again
    expect(stop).to_have_class(re.compile(r"\bmod-danger\b"))
    assert page.evaluate(RUNNING, 2)
    stop.click()
    wait_cell_done(page, 2, timeout=20_000)
    expect(dashboard).to_contain_text("second")
    expect(stop).to_be_disabled()
    expect(dashboard.locator('svg[data-y-scale="log"]')).to_be_attached()
    assert errors_shown(page) == []
