import io
import os
import signal

import numpy as np
import pytest

import nbframe as nf
from nbframe.train import Callback, LambdaCallback, TextProgress
from nbframe.train.progress import pick_reporter


def test_fit_lowers_the_loss_on_a_tiny_dataset(blobs, mlp):
    history = nf.fit(mlp, blobs, epochs=5, lr=1e-2, progress=None)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert history.epochs[-1]["accuracy"] > 0.9


def test_history_has_one_row_per_step_and_per_epoch_with_validation(blobs, mlp):
    history = nf.fit(mlp, blobs, val=(blobs[0][:64], blobs[1][:64]), epochs=2, batch_size=64, progress=None)
    assert len(history.steps) == 2 * 4
    assert [row["step"] for row in history.steps] == list(range(1, 9))
    assert [row["epoch"] for row in history.epochs] == [1, 2]
    assert set(history.epochs[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["val_loss"] == [row["val_loss"] for row in history.epochs]
    assert history.stopped is None and len(history) == 2


def test_fit_takes_a_dataloader_an_optimizer_object_and_a_loss_function(blobs, mlp):
    loader = nf.utils.data.DataLoader(nf.utils.data.TensorDataset(*blobs), batch_size=128)
    optimizer = nf.optim.SGD(mlp.parameters(), lr=0.1)
    history = nf.fit(mlp, loader, optimizer=optimizer, loss=nf.nn.CrossEntropyLoss(), metrics=[],
                     progress=None)
    assert len(history.steps) == 2 and "accuracy" not in history.steps[0]
    assert history.steps[0]["lr"] == 0.1


def test_fit_names_what_was_wrong():
    model = nf.nn.Linear(2, 2)
    data = (nf.randn(4, 2), nf.zeros(4).long())
    with pytest.raises(ValueError, match="optimizer must be"):
        nf.fit(model, data, optimizer="adamax", progress=None)
    with pytest.raises(ValueError, match="unknown metric 'f2'"):
        nf.fit(model, data, metrics=["f2"], progress=None)
    with pytest.raises(TypeError, match="train must be a DataLoader"):
        nf.fit(model, 3, progress=None)
    with pytest.raises(ValueError, match="different lengths"):
        nf.fit(model, (nf.randn(4, 2), nf.zeros(3).long()), progress=None)


def _snapshot(model, optimizer):
    weights = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    steps = [float(s["step"].item()) if hasattr(s["step"], "item") else s["step"]
             for s in optimizer.state.values()]
    return weights, steps


def test_a_callback_stop_ends_after_the_current_step_with_everything_consistent(blobs, mlp):
    optimizer = nf.optim.Adam(mlp.parameters(), lr=1e-2)
    stopper = LambdaCallback(on_step_end=lambda trainer, step, logs: step == 3 and trainer.stop("test"))
    history = nf.fit(mlp, blobs, epochs=3, optimizer=optimizer, callbacks=[stopper], progress=None)
    assert history.stopped == "test"
    assert len(history.steps) == 3
    _, steps = _snapshot(mlp, optimizer)
    assert steps and all(s == 3 for s in steps)  # exactly three whole optimiser steps were taken
    assert history.epochs[-1]["epoch"] == 1  # the interrupted epoch still gets its row


def test_ctrl_c_during_fit_stops_cleanly_after_the_step_and_training_can_resume(blobs, mlp):
    optimizer = nf.optim.Adam(mlp.parameters(), lr=1e-2)
    interrupt = LambdaCallback(on_step_end=lambda trainer, step, logs: step == 2 and os.kill(os.getpid(),
                                                                                            signal.SIGINT))
    history = nf.fit(mlp, blobs, epochs=2, optimizer=optimizer, callbacks=[interrupt], progress=None)
    assert history.stopped == "KeyboardInterrupt"
    assert len(history.steps) == 2
    assert all(s == 2 for s in _snapshot(mlp, optimizer)[1])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is restored
    again = nf.fit(mlp, blobs, epochs=1, optimizer=optimizer, progress=None)
    assert again.stopped is None and np.isfinite(again.history["loss"][0])


class _PressStop:
    """A reporter whose Stop button is pressed at a given step."""

    def __init__(self, at: int) -> None:
        self.at, self.stop_requested, self.calls = at, False, []

    def start(self, run, epochs, steps_per_epoch):
        self.calls.append("start")

    def step(self, step, epoch, logs, samples):
        self.stop_requested = step >= self.at

    def epoch(self, epoch, logs):
        self.calls.append("epoch")

    def finish(self, history):
        self.calls.append(f"finish:{history.stopped}")


def test_the_stop_button_ends_training_after_the_current_step(blobs, mlp):
    reporter = _PressStop(at=5)
    history = nf.fit(mlp, blobs, epochs=4, progress=reporter)
    assert len(history.steps) == 5 and history.stopped == "stop button"
    assert reporter.calls == ["start", "epoch", "finish:stop button"]
    mlp(blobs[0][:2])  # the model is still usable


class _Order(Callback):
    def __init__(self):
        self.events = []

    def on_fit_start(self, trainer):
        self.events.append("fit_start")

    def on_epoch_start(self, trainer, epoch):
        self.events.append(f"epoch_start{epoch}")

    def on_step_end(self, trainer, step, logs):
        self.events.append("step")

    def on_epoch_end(self, trainer, epoch, logs):
        self.events.append(f"epoch_end{epoch}")

    def on_partial_epoch(self, trainer, epoch, logs):
        self.events.append(f"partial_epoch{epoch}")
        self.partial_logs = logs

    def on_fit_end(self, trainer):
        self.events.append("fit_end")
        self.history = trainer.history


def test_callback_hooks_run_in_order(blobs, mlp):
    order = _Order()
    nf.fit(mlp, blobs, epochs=2, batch_size=128, callbacks=[order], progress=None)
    assert order.events == ["fit_start", "epoch_start1", "step", "step", "epoch_end1",
                            "epoch_start2", "step", "step", "epoch_end2", "fit_end"]


def test_text_progress_writes_one_line_per_epoch_off_a_terminal(blobs, mlp):
    stream = io.StringIO()
    nf.fit(mlp, blobs, epochs=2, batch_size=64, progress=TextProgress(stream=stream))
    lines = [line for line in stream.getvalue().split("\n") if line.strip()]
    assert len(lines) == 2
    assert "epoch 2/2 [####################] 4/4" in lines[1] and "samples/s" in lines[1]


def test_auto_progress_is_the_text_bar_outside_a_kernel():
    assert isinstance(pick_reporter("auto"), TextProgress)
    with pytest.raises(ValueError, match="progress='chart'"):
        pick_reporter("chart")


def test_history_plot_is_a_static_svg(blobs, mlp):
    import xml.etree.ElementTree as ET

    history = nf.fit(mlp, blobs, epochs=2, progress=None)
    bundle = history.plot()._repr_mimebundle_()
    root = ET.fromstring(bundle["image/svg+xml"])
    assert len(root.findall(".//{http://www.w3.org/2000/svg}polyline")) >= 2
    assert "2 epochs" in bundle["text/plain"]


def test_to_pandas_names_the_missing_package_or_returns_a_frame(blobs, mlp):
    history = nf.fit(mlp, blobs, epochs=1, progress=None)
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install pandas"):
            history.to_pandas()
    else:
        assert list(history.to_pandas()["epoch"]) == [1]


def test_a_stop_mid_epoch_leaves_a_partial_epoch_that_is_never_the_best(blobs, mlp):
    order = _Order()
    reporter = _PressStop(at=10)  # 256 samples / 32 = 8 steps an epoch: step 10 is inside epoch 2
    history = nf.fit(mlp, blobs, epochs=4, lr=0.0, progress=reporter, callbacks=[order])
    assert history.partial_epoch == 2 and len(history.epochs) == 2
    assert history.best_epoch("loss") == 1  # lr 0: the partial epoch's loss ties epoch 1's at best
    assert "epoch_end2" not in order.events and order.events[-2:] == ["partial_epoch2", "fit_end"]
    assert "epoch 2 partial" in repr(history)
    assert order.partial_logs == {k: v for k, v in history.epochs[-1].items() if k != "epoch"}


def _mean_of_epoch(history, epoch: int, name: str = "loss") -> float:
    return float(np.mean([row[name] for row in history.steps if row["epoch"] == epoch]))


def test_a_partial_epochs_row_averages_the_steps_that_ran(blobs, mlp):
    history = nf.fit(mlp, blobs, epochs=4, progress=_PressStop(at=11))  # 3 equal batches of epoch 2 ran
    assert history.epochs[-1]["epoch"] == 2 and history.partial_epoch == 2
    for name in ("loss", "accuracy"):
        assert history.epochs[-1][name] == pytest.approx(_mean_of_epoch(history, 2, name))


def _failing_loss(at_call: int):
    calls = []

    def loss(output, target):
        calls.append(1)
        if len(calls) == at_call:
            raise RuntimeError("loss blew up")
        return nf.nn.functional.cross_entropy(output, target)

    return loss


def test_an_error_mid_epoch_still_records_the_partial_epoch_and_names_the_error(blobs, mlp):
    order = _Order()
    with pytest.raises(RuntimeError, match="loss blew up"):
        nf.fit(mlp, blobs, epochs=3, loss=_failing_loss(at_call=12), callbacks=[order], progress=None)
    history = order.history
    assert history.stopped == "RuntimeError" and history.partial_epoch == 2
    assert [row["epoch"] for row in history.epochs] == [1, 2] and len(history.steps) == 11
    assert history.epochs[-1]["loss"] == pytest.approx(_mean_of_epoch(history, 2))
    assert order.events[-3:] == ["step", "partial_epoch2", "fit_end"]


def test_a_second_ctrl_c_raises_keyboard_interrupt_after_recording_the_partial_epoch(blobs, mlp):
    def press_twice(trainer, step, logs):
        if step == 10:
            os.kill(os.getpid(), signal.SIGINT)  # the first only asks for a stop ...
            os.kill(os.getpid(), signal.SIGINT)  # ... the second means it: KeyboardInterrupt at once

    order = _Order()
    with pytest.raises(KeyboardInterrupt):
        nf.fit(mlp, blobs, epochs=3, callbacks=[LambdaCallback(on_step_end=press_twice), order],
               progress=None)
    history = order.history
    assert history.stopped == "KeyboardInterrupt" and history.partial_epoch == 2 and len(history.steps) == 10
    assert history.epochs[-1]["loss"] == pytest.approx(_mean_of_epoch(history, 2))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_error_in_validation_leaves_the_trained_epoch_as_a_partial_row_without_val_values(blobs, mlp):
    class BrokenVal:
        def __iter__(self):
            raise OSError("validation data unreadable")

    order = _Order()
    with pytest.raises(OSError):
        nf.fit(mlp, blobs, val=BrokenVal(), epochs=2, callbacks=[order], progress=None)
    history = order.history
    assert history.partial_epoch == 1 and set(history.epochs[0]) == {"epoch", "loss", "accuracy"}
    assert history.stopped == "OSError"


def test_an_error_in_an_epochs_first_step_leaves_no_row_for_that_epoch(blobs, mlp):
    order = _Order()
    with pytest.raises(RuntimeError):
        nf.fit(mlp, blobs, epochs=3, loss=_failing_loss(at_call=9), callbacks=[order], progress=None)
    assert order.history.partial_epoch is None and len(order.history.epochs) == 1
    assert "partial_epoch2" not in order.events


def test_to_pandas_marks_the_partial_epoch_in_a_partial_column(blobs, mlp, monkeypatch):
    import sys
    from types import SimpleNamespace

    monkeypatch.setitem(sys.modules, "pandas", SimpleNamespace(DataFrame=lambda rows: rows))
    history = nf.fit(mlp, blobs, epochs=4, progress=_PressStop(at=10))
    assert [(row["epoch"], row["partial"]) for row in history.to_pandas()] == [(1, False), (2, True)]
    assert list(history.to_pandas()[0])[-1] == "partial"


def test_a_stop_on_an_epochs_last_step_leaves_a_whole_epoch(blobs, mlp):
    history = nf.fit(mlp, blobs, epochs=4, progress=_PressStop(at=8))
    assert history.partial_epoch is None and len(history.epochs) == 1


def test_history_plot_draws_each_epochs_values_at_the_step_that_epoch_ended(blobs, mlp):
    import xml.etree.ElementTree as ET

    history = nf.fit(mlp, blobs, val=(blobs[0][:64], blobs[1][:64]), epochs=3, batch_size=64, progress=None)
    lines = {line.get("data-name"): [tuple(map(float, p.split(","))) for p in line.get("points").split()]
             for line in ET.fromstring(history.plot().svg).iter("{http://www.w3.org/2000/svg}polyline")}
    steps_x = [x for x, _ in lines["loss (step)"]]  # steps 1..12, four per epoch
    ends = [steps_x[3], steps_x[7], steps_x[11]]
    for name in ("loss", "val_loss", "accuracy", "val_accuracy"):
        assert [x for x, _ in lines[name]] == ends, name
