"""``nf.fit``: the standard training loop, with callbacks, metrics, a progress reporter and a clean stop.

Stopping (the dashboard's Stop button, Ctrl-C / the kernel's interrupt, a
callback) always ends the run *between* steps: while ``fit`` runs, SIGINT only
raises a flag that the loop checks after each step, so an optimiser step is
never cut in half and model, optimiser and ``History`` stay consistent. An epoch cut short (by a
stop, a second Ctrl-C that really interrupts, or an error) still gets its row, marked partial, in
``History`` and in every callback's ``on_partial_epoch`` (``CSVLogger`` writes it) before the run ends.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .callbacks import Callback
from .history import History
from .progress import pick_reporter

_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
_LOSSES = {"cross_entropy": "cross_entropy", "mse": "mse_loss", "mse_loss": "mse_loss", "l1": "l1_loss",
           "l1_loss": "l1_loss", "nll": "nll_loss", "nll_loss": "nll_loss",
           "bce_with_logits": "binary_cross_entropy_with_logits",
           "binary_cross_entropy_with_logits": "binary_cross_entropy_with_logits"}


def accuracy(output, target) -> float:
    """Share of rows whose arg-max class equals the target (or, for one output, whose logit sign does)."""
    from nbframe import Tensor

    out = output.detach()
    if out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1):
        predicted = (out.reshape(-1) > 0).long()
    else:
        predicted = out.argmax(dim=-1)
    target = target.detach() if isinstance(target, Tensor) else target
    return float((predicted == target.reshape(predicted.shape).long()).float().mean().item())


_METRICS: dict[str, Callable] = {"accuracy": accuracy, "acc": accuracy}


class Trainer:
    """What callbacks see: model, optimizer, history, the current epoch/step, and ``stop(reason)``."""

    def __init__(self, model, optimizer, history: History) -> None:
        self.model, self.optimizer, self.history = model, optimizer, history
        self.epoch, self.step, self.stop_training, self.stop_reason = 0, 0, False, None

    def stop(self, reason: str = "a callback") -> None:
        """End training after the current step."""
        if not self.stop_training:
            self.stop_training, self.stop_reason = True, reason


def fit(model, train, val=None, epochs: int = 1, optimizer: str | Any = "adam", lr: float = 1e-3,
        loss: str | Callable = "cross_entropy", metrics: Sequence[str | Callable] = ("accuracy",),
        callbacks: Iterable[Callback] = (), device=None, batch_size: int = 32, shuffle: bool = True,
        progress: Any = "auto", run: str | None = None) -> History:
    """Train ``model`` on ``train`` for ``epochs`` epochs and return the ``History``.

    ``train``/``val`` are DataLoaders (or any iterables of ``(input, target)`` batches) or
    ``(X, y)`` tensor tuples (batched here with ``batch_size``). ``optimizer`` is a name
    (``"adam"``, ``"sgd"``, ``"adamw"``, ``"rmsprop"``, ``"adagrad"``) made with ``lr`` or an
    ``nf.optim.Optimizer``; ``loss`` a name (``"cross_entropy"``, ``"mse"``, ``"l1"``, ``"nll"``,
    ``"bce_with_logits"``) or ``loss(output, target)``; ``metrics`` names (``"accuracy"``) or
    functions ``metric(output, target) -> float``. ``progress``: ``"auto"`` (dashboard in a
    notebook, text bar elsewhere), ``"text"``, ``None``, or a ``TrainingDashboard`` to overlay runs.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive int, got {epochs!r}")
    if device is not None:
        model.to(device)
    train_batches = _batches(train, batch_size, shuffle, "train")
    val_batches = _batches(val, batch_size, False, "val") if val is not None else None
    optimizer = _optimizer(optimizer, model, lr)
    loss_fn = _loss(loss)
    metric_fns = _metrics(metrics)
    callbacks = list(callbacks)
    history = History(run or "run")
    trainer = Trainer(model, optimizer, history)
    reporter = pick_reporter(progress)
    reporter.start(history.run, epochs, _length(train_batches))
    with _InterruptFlag() as interrupt:
        for callback in callbacks:
            callback.on_fit_start(trainer)
        epoch, open_epoch = 0, None  # open_epoch: the steps of an epoch that has no row yet
        try:
            for epoch in range(1, epochs + 1):
                trainer.epoch = epoch
                for callback in callbacks:
                    callback.on_epoch_start(trainer, epoch)
                open_epoch = _EpochTotals()
                whole = _train_epoch(trainer, train_batches, open_epoch, loss_fn, metric_fns, device,
                                     callbacks, reporter, interrupt)
                if not whole or not open_epoch.count:
                    break  # stopped mid-epoch: the finally block writes its partial row (no data: no row)
                logs = open_epoch.means()
                if val_batches is not None:
                    logs.update(evaluate(model, val_batches, loss_fn, metric_fns, device, prefix="val_"))
                history.log_epoch({"epoch": epoch, **logs})
                open_epoch = None
                reporter.epoch(epoch, logs)
                for callback in callbacks:
                    callback.on_epoch_end(trainer, epoch, logs)
                if trainer.stop_training:
                    break
        except BaseException as error:  # Ctrl-C twice, or an error: say so, keep what ran, re-raise
            trainer.stop(type(error).__name__)
            raise
        finally:
            if open_epoch is not None and open_epoch.count:
                _end_partial_epoch(trainer, epoch, open_epoch.means(), callbacks, reporter)
            history.stopped = trainer.stop_reason
            for callback in callbacks:
                callback.on_fit_end(trainer)
            reporter.finish(history)
    return history


def _end_partial_epoch(trainer: Trainer, epoch: int, logs: dict[str, float], callbacks, reporter) -> None:
    """An epoch cut short (stop, interrupt, error): its row averages the steps that ran, is marked partial
    in ``History`` (never the best epoch), and goes to ``on_partial_epoch`` instead of ``on_epoch_end``
    (no validation, no early stopping or checkpoint on half an epoch). A stop before the epoch's first
    step finished leaves no row."""
    trainer.history.log_epoch({"epoch": epoch, **logs}, partial=True)
    reporter.epoch(epoch, logs)  # finish() reads history.partial_epoch
    for callback in callbacks:
        callback.on_partial_epoch(trainer, epoch, logs)


class _EpochTotals:
    """The steps of one epoch so far: ``(values, batch size)`` each, added in one append (an interrupt
    can't leave them half-counted)."""

    def __init__(self) -> None:
        self.steps: list[tuple[dict[str, float], int]] = []

    def add(self, values: dict[str, float], samples: int) -> None:
        self.steps.append((values, samples))

    @property
    def count(self) -> int:
        """Samples seen so far."""
        return sum(samples for _, samples in self.steps)

    def means(self) -> dict[str, float]:
        """Per-sample means of every value over the steps that ran."""
        sums: dict[str, float] = {}
        for values, samples in self.steps:
            for name, number in values.items():
                sums[name] = sums.get(name, 0.0) + number * samples
        count = self.count
        return {name: total / count for name, total in sums.items()}


def _train_epoch(trainer: Trainer, batches, totals: _EpochTotals, loss_fn, metric_fns, device, callbacks,
                 reporter, interrupt) -> bool:
    """One pass over the data, each step's values added to ``totals``; False when a stop cut it short."""
    model, optimizer = trainer.model, trainer.optimizer
    model.train()
    ran = 0
    for inputs, target in batches:
        inputs, target = _to(inputs, device), _to(target, device)
        optimizer.zero_grad()
        output = model(inputs)
        value = loss_fn(output, target)
        value.backward()
        optimizer.step()
        trainer.step += 1
        n = _batch_size(inputs)
        logs = {"loss": float(value.item())}
        logs.update({name: float(fn(output, target)) for name, fn in metric_fns.items()})
        totals.add(logs, n)
        lr = optimizer.param_groups[0].get("lr")
        trainer.history.log_step({"step": trainer.step, "epoch": trainer.epoch, **logs,
                                  **({"lr": float(lr)} if lr is not None else {})})
        reporter.step(trainer.step, trainer.epoch, logs, n)
        for callback in callbacks:
            callback.on_step_end(trainer, trainer.step, logs)
        if interrupt.raised:
            trainer.stop("KeyboardInterrupt")
        if getattr(reporter, "stop_requested", False):
            trainer.stop("stop button")
        ran += 1
        if trainer.stop_training:  # a stop on the last batch still leaves a whole epoch
            return ran == _length(batches)
    return True


def evaluate(model, batches, loss_fn, metric_fns: dict[str, Callable], device=None, prefix: str = "") -> dict:
    """Mean loss and metrics over ``batches`` in eval mode, without gradients (the mode is restored)."""
    from nbframe import no_grad

    was_training = model.training
    model.eval()
    sums: dict[str, float] = {}
    count = 0
    try:
        with no_grad():
            for inputs, target in batches:
                inputs, target = _to(inputs, device), _to(target, device)
                output = model(inputs)
                n = _batch_size(inputs)
                values = {"loss": float(loss_fn(output, target).item())}
                values.update({name: float(fn(output, target)) for name, fn in metric_fns.items()})
                for name, number in values.items():
                    sums[name] = sums.get(name, 0.0) + number * n
                count += n
    finally:
        model.train(was_training)
    return {prefix + name: total / max(count, 1) for name, total in sums.items()}


class _InterruptFlag:
    """While active (main thread only), Ctrl-C sets ``raised`` instead of raising KeyboardInterrupt."""

    def __init__(self) -> None:
        self.raised = False
        self._previous = None

    def _handler(self, signum, frame) -> None:
        if self.raised:  # a second Ctrl-C: the user means it
            raise KeyboardInterrupt
        self.raised = True

    def __enter__(self) -> _InterruptFlag:
        if threading.current_thread() is threading.main_thread():
            try:
                self._previous = signal.signal(signal.SIGINT, self._handler)
            except ValueError:
                self._previous = None
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _batches(data, batch_size: int, shuffle: bool, which: str):
    from nbframe import Tensor
    from nbframe.utils.data import DataLoader, TensorDataset

    if isinstance(data, tuple) and len(data) == 2 and all(isinstance(t, Tensor) for t in data):
        if len(data[0]) != len(data[1]):
            raise ValueError(f"fit: {which}=(X, y) have different lengths {len(data[0])} and {len(data[1])}")
        return DataLoader(TensorDataset(*data), batch_size=batch_size, shuffle=shuffle)
    if isinstance(data, Iterable) and not isinstance(data, (str, bytes, Tensor)):
        return data
    raise TypeError(f"fit: {which} must be a DataLoader (or an iterable of (input, target) batches) or an "
                    f"(X, y) tuple of Tensors, got {type(data).__name__}")


def _optimizer(optimizer, model, lr: float):
    from nbframe import optim

    if isinstance(optimizer, optim.Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in _OPTIMIZERS:
        return getattr(optim, _OPTIMIZERS[optimizer.lower()])(model.parameters(), lr=lr)
    raise ValueError(f"fit: optimizer must be an nf.optim.Optimizer or one of {sorted(_OPTIMIZERS)}, "
                     f"got {optimizer!r}")


def _loss(loss) -> Callable:
    from nbframe.nn import functional

    if callable(loss):
        return loss
    if isinstance(loss, str) and loss in _LOSSES:
        return getattr(functional, _LOSSES[loss])
    raise ValueError(f"fit: loss must be a callable loss(output, target) or one of {sorted(_LOSSES)}, "
                     f"got {loss!r}")


def _metrics(metrics) -> dict[str, Callable]:
    found = {}
    for metric in metrics or ():
        if isinstance(metric, str):
            if metric not in _METRICS:
                raise ValueError(f"fit: unknown metric {metric!r}; known: {sorted(_METRICS)}, or pass a "
                                 "function metric(output, target) -> float")
            found["accuracy" if metric == "acc" else metric] = _METRICS[metric]
        elif callable(metric):
            found[getattr(metric, "__name__", f"metric{len(found)}")] = metric
        else:
            raise TypeError(f"fit: a metric must be a name or a function, got {type(metric).__name__}")
    return found


def _length(batches) -> int | None:
    try:
        return len(batches)
    except TypeError:
        return None


def _to(value, device):
    if device is None or not hasattr(value, "to"):
        return value
    return value.to(device)


def _batch_size(inputs) -> int:
    first = inputs[0] if isinstance(inputs, (tuple, list)) else inputs
    return int(first.shape[0]) if getattr(first, "ndim", 0) else 1


