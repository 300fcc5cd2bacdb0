"""The TrainingDashboard in JupyterLab: its loss curve grows while ``nf.fit`` runs; Stop ends the run cleanly.

Training is paced by a callback that sleeps a few milliseconds a step, so a run lasts a known time on
any machine; the curve is read from the DOM (the ``points`` of the step-loss ``<polyline>``).
"""

from __future__ import annotations

import re

from .notebook_ui import (
    code_cell,
    errors_shown,
    expect,
    open_notebook,
    outputs,
    run_cell,
    run_command,
    start_cell,
    wait_cell_done,
    write_notebook,
)

SETUP = """\
%load_ext nbframe
import time
import nbframe as nf
from nbframe import nn
nf.manual_seed(0)
X = nf.randn(512, 8)
y = (X[:, 0] > 0).long()
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
pace = nf.train.LambdaCallback(on_step_end=lambda trainer, step, logs: time.sleep(0.02))"""

FIT = "history = nf.fit(model, (X, y), epochs={epochs}, batch_size=32, lr=1e-2, callbacks=[pace])"
AFTER = "print('after fit:', len(history.steps), 'steps,', history.stopped, ',', tuple(model(X[:2]).shape))"
STEPS_PER_EPOCH = 512 // 32

# The step-loss curve's point count in the fit cell's output, and whether that cell is still running.
CURVE = """(index) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-CodeCell')[index];
  const line = cell && cell.querySelector('.jp-OutputArea polyline.series[data-name="loss (step)"]');
  const points = line ? line.getAttribute('points').trim().split(/\\s+/).filter(Boolean).length : 0;
  return {points, running: cell.querySelector('.jp-InputPrompt').textContent.includes('*')};
}"""


def curve(page, index: int = 1) -> dict:
    return page.evaluate(CURVE, index)


def wait_for_curve(page, at_least: int, index: int = 1, timeout: float = 30_000) -> dict:
    """Wait until the fit cell's loss curve has ``at_least`` points; return what the page shows then."""
    page.wait_for_function(f"(index) => ({CURVE})(index).points >= {at_least}", arg=index, timeout=timeout)
    return curve(page, index)


def test_the_loss_curve_grows_while_fit_runs(page, lab, artifacts):
    epochs = 8
    open_notebook(page, lab, write_notebook(lab, "dashboard_grows.ipynb", [SETUP, FIT.format(epochs=epochs)]))
    run_cell(page, 0)
    start_cell(page, 1)
    early = wait_for_curve(page, 5)
    later = wait_for_curve(page, early["points"] + 10)
    page.screenshot(path=str(artifacts / "dashboard-running.png"))
    assert early["running"] and later["running"], f"the curve must grow while fit runs: {early}, {later}"
    wait_cell_done(page, 1, timeout=60_000)
    assert errors_shown(page) == []
    assert curve(page)["points"] == epochs * STEPS_PER_EPOCH
    expect(outputs(page, 1)).to_contain_text("done")
    code_cell(page, 1).scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "dashboard-done.png"))


# The Stop click is a comm message on the shell channel; the dashboard pins the button's comm to a kernel
# subshell, so ipykernel handles it while the main shell is still running the fit cell.
def test_stop_ends_training_and_the_kernel_stays_responsive(page, lab, artifacts):
    epochs = 1000  # minutes of training: only the Stop button ends it within the test's time
    open_notebook(page, lab, write_notebook(lab, "dashboard_stop.ipynb",
                                            [SETUP, FIT.format(epochs=epochs), AFTER]))
    run_cell(page, 0)
    start_cell(page, 1)
    assert wait_for_curve(page, 20)["running"]
    stop = outputs(page, 1).locator("button.widget-button", has_text="Stop")
    stop.click()
    try:
        wait_cell_done(page, 1, timeout=20_000)
    finally:
        page.screenshot(path=str(artifacts / "dashboard-stopped.png"))
    expect(outputs(page, 1)).to_contain_text("stopped: stop button")
    expect(stop).to_be_disabled()
    steps = int(re.search(r"step (\d+)", outputs(page, 1).inner_text()).group(1))
    assert 20 <= steps < epochs * STEPS_PER_EPOCH
    if steps % STEPS_PER_EPOCH:  # stopped mid-epoch: that epoch is marked partial and is not the best one
        epoch = steps // STEPS_PER_EPOCH + 1
        expect(outputs(page, 1)).to_contain_text(f"epoch {epoch} partial")
        expect(outputs(page, 1).locator("rect.partial").first).to_be_attached()
        assert f"best epoch {epoch} " not in outputs(page, 1).inner_text()
    run_cell(page, 2)
    expect(outputs(page, 2)).to_contain_text(f"after fit: {steps} steps, stop button , (2, 2)")
    assert errors_shown(page) == []
    page.screenshot(path=str(artifacts / "dashboard-after-stop.png"))


# A kernel where the Stop button can't be routed (ipykernel < 7): the dashboard says so, and the kernel's
# interrupt ends the run just as cleanly.
NO_ROUTING = """\
import nbframe.widgets.dashboard as dashboard_module
dashboard_module._route_to_subshell = lambda comm: False"""


def test_without_subshells_the_dashboard_points_to_the_interrupt_which_stops_cleanly(page, lab, artifacts):
    open_notebook(page, lab, write_notebook(lab, "dashboard_interrupt.ipynb",
                                            [f"{SETUP}\n{NO_ROUTING}", FIT.format(epochs=1000), AFTER]))
    run_cell(page, 0)
    start_cell(page, 1)
    assert wait_for_curve(page, 20)["running"]
    expect(outputs(page, 1)).to_contain_text("interrupt button")
    run_command(page, "Kernel", "kernelmenu:interrupt")
    try:
        wait_cell_done(page, 1, timeout=20_000)
    finally:
        page.screenshot(path=str(artifacts / "dashboard-interrupted.png"))
    expect(outputs(page, 1)).to_contain_text("stopped: KeyboardInterrupt")
    steps = int(re.search(r"step (\d+)", outputs(page, 1).inner_text()).group(1))
    run_cell(page, 2)
    expect(outputs(page, 2)).to_contain_text(f"after fit: {steps} steps, KeyboardInterrupt , (2, 2)")
    assert errors_shown(page) == []
