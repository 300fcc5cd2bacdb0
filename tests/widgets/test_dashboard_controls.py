"""The dashboard's controls: the Stop button shows whether a run is in progress, and the log-scale toggle
redraws at once even while ``fit`` keeps the kernel's main thread busy (its handler then runs on another
thread: the kernel subshell its comm is pinned to, as the Stop button's is)."""

import io
import threading

import pytest
from nbframe.widgets import TrainingDashboard
from nbframe.widgets import dashboard as dashboard_module

import nbframe as nf


@pytest.fixture
def data():
    nf.manual_seed(0)
    return nf.randn(64, 4), nf.zeros(64).long()


def _look(dash) -> tuple[str, str, bool]:
    stop = dash._parts["stop"]
    return stop.description, stop.button_style, stop.disabled


RUNNING = ("Stop", "danger", False)
STOPPING = ("Stopping\u2026", "warning", True)
IDLE = ("Stop", "", True)


def _fit(dash, data, seen, epochs=1, stop_at=None):
    """``fit`` onto ``dash``, noting the Stop button's look after each step (pressing it at ``stop_at``)."""
    def each_step(trainer, step, logs):
        seen.append(_look(dash))
        if step == stop_at:
            dash._on_stop()
            seen.append(_look(dash))

    return nf.fit(nf.nn.Linear(4, 2), data, epochs=epochs, batch_size=16, progress=dash,
                  callbacks=[nf.train.LambdaCallback(on_step_end=each_step)])


def test_stop_is_grey_and_disabled_before_and_after_a_run_and_red_and_enabled_during_it(data):
    dash = TrainingDashboard(text_stream=io.StringIO())
    dash.widget  # noqa: B018  (shown before any run)
    assert _look(dash) == IDLE and "No run in progress" in dash._parts["stop"].tooltip
    seen = []
    _fit(dash, data, seen)
    assert set(seen) == {RUNNING} and _look(dash) == IDLE and not dash.running


def test_stop_is_enabled_again_when_a_new_fit_starts_on_the_same_dashboard(data):
    dash = TrainingDashboard(text_stream=io.StringIO())
    dash.widget  # noqa: B018
    first, second = [], []
    assert _fit(dash, data, first, epochs=3, stop_at=2).stopped == "stop button"
    assert first == [RUNNING, RUNNING, STOPPING] and _look(dash) == IDLE
    history = _fit(dash, data, second, epochs=1)
    assert history.stopped is None and set(second) == {RUNNING}  # the earlier stop request is forgotten
    assert _look(dash) == IDLE


def test_a_hand_fed_run_enables_stop_until_finish():
    dash = TrainingDashboard(text_stream=io.StringIO())
    dash.widget  # noqa: B018
    dash.log(1, loss=0.5)
    assert _look(dash) == RUNNING
    dash.finish()
    assert _look(dash) == IDLE


def test_a_stop_click_that_arrives_after_the_run_ended_requests_nothing(data):
    dash = TrainingDashboard(text_stream=io.StringIO())
    dash.widget  # noqa: B018
    _fit(dash, data, [])
    dash._on_stop()  # queued until the cell ended, where clicks can't reach a busy kernel
    assert not dash.stop_requested and _look(dash) == IDLE


def test_the_log_scale_toggle_is_routed_to_the_subshell_like_stop_and_again_after_each_toggle(monkeypatch):
    routed = []
    monkeypatch.setattr(dashboard_module, "_route_to_subshell", lambda comm: routed.append(comm) or True)
    dash = TrainingDashboard(text_stream=io.StringIO())
    dash.widget  # noqa: B018
    scale, stop = dash._parts["scale"], dash._parts["stop"]
    assert {id(scale.comm), id(stop.comm)} <= {id(comm) for comm in routed} and dash.stop_works
    routed.clear()
    scale.value = True  # the value's echo to the frontend leaves the comm pinned to the main shell
    assert [comm is scale.comm for comm in routed] == [True]


def test_toggling_log_scale_mid_run_redraws_the_curves_at_once(data):
    dash = TrainingDashboard(text_stream=io.StringIO(), throttle=float("inf"))  # no redraw between epochs
    dash.widget  # noqa: B018
    seen = {}

    def toggle_from_the_subshell(trainer, step, logs):
        if step == 2:  # mid-epoch: the frontend's toggle is handled on another thread while fit runs
            before = dash.redraws
            handler = threading.Thread(target=setattr, args=(dash._parts["scale"], "value", True))
            handler.start()
            handler.join()
            seen.update(shown=dash._parts["charts"].value, now=dash.svg(), redraws=dash.redraws - before)

    nf.fit(nf.nn.Linear(4, 2), data, epochs=1, batch_size=16, progress=dash,
           callbacks=[nf.train.LambdaCallback(on_step_end=toggle_from_the_subshell)])
    assert seen["redraws"] == 1 and seen["shown"] == seen["now"]  # redrawn by the toggle, not later
    assert 'data-y-scale="log"' in seen["shown"]


def test_a_run_that_ends_in_an_error_greys_out_stop_and_says_why(data):
    dash = TrainingDashboard(text_stream=io.StringIO())
    dash.widget  # noqa: B018

    def fail(trainer, step, logs):
        if step == 6:
            raise RuntimeError("data went bad")

    with pytest.raises(RuntimeError):
        nf.fit(nf.nn.Linear(4, 2), data, epochs=3, batch_size=16, progress=dash,
               callbacks=[nf.train.LambdaCallback(on_step_end=fail)])
    assert _look(dash) == IDLE
    assert "stopped: RuntimeError" in dash.status() and "epoch 2 partial" in dash.status()
