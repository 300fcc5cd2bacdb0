"""Training callbacks: hooks ``fit`` calls at the start and end of the run, of each epoch and each step.

Each hook gets the ``Trainer`` (model, optimizer, history, ``stop_training``);
setting ``trainer.stop_training = True`` ends the run after the current step. An epoch cut short
goes to ``on_partial_epoch``, never ``on_epoch_end``, so early stopping and checkpoints only ever
judge whole epochs.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable
from typing import Any


class Callback:
    """Base class: override the hooks you need; each does nothing by default."""

    def on_fit_start(self, trainer) -> None:
        pass

    def on_epoch_start(self, trainer, epoch: int) -> None:
        pass

    def on_step_end(self, trainer, step: int, logs: dict[str, float]) -> None:
        pass

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, float]) -> None:
        pass

    def on_partial_epoch(self, trainer, epoch: int, logs: dict[str, float]) -> None:
        """Instead of ``on_epoch_end`` for an epoch a stop, an interrupt or an error cut short: ``logs``
        average the steps that ran (no validation values). Called before ``on_fit_end``."""

    def on_fit_end(self, trainer) -> None:
        pass


class _Monitor:
    """The 'is this value better?' rule shared by EarlyStopping and ModelCheckpoint."""

    def __init__(self, monitor: str, mode: str, min_delta: float = 0.0) -> None:
        if mode == "auto":
            higher_is_better = ("acc", "auc", "f1", "precision", "recall")
            mode = "max" if any(word in monitor for word in higher_is_better) else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def value(self, logs: dict[str, float]) -> float:
        if self.monitor not in logs:
            raise KeyError(f"monitor {self.monitor!r} is not among this epoch's "
                           f"values {sorted(logs)}; pass one of those (val_* needs fit(..., val=...))")
        return float(logs[self.monitor])

    def improved(self, value: float) -> bool:
        if self.mode == "min":
            better = value < self.best - self.min_delta
        else:
            better = value > self.best + self.min_delta
        if better:
            self.best = value
        return better


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs (optionally restoring the best)."""

    def __init__(self, monitor: str = "val_loss", patience: int = 3, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False) -> None:
        self._rule = _Monitor(monitor, mode, min_delta)
        self.patience, self.restore_best_weights = patience, restore_best_weights
        self.wait, self.stopped_epoch, self._best_state = 0, None, None

    def on_fit_start(self, trainer) -> None:
        self._rule.best = math.inf if self._rule.mode == "min" else -math.inf
        self.wait, self.stopped_epoch, self._best_state = 0, None, None

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, float]) -> None:
        if self._rule.improved(self._rule.value(logs)):
            self.wait = 0
            if self.restore_best_weights:
                self._best_state = {k: v.clone() for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop(f"EarlyStopping (no {self._rule.monitor} improvement in {self.patience} epochs)")

    def on_fit_end(self, trainer) -> None:
        if self.restore_best_weights and self._best_state is not None:
            trainer.model.load_state_dict(self._best_state)


class ModelCheckpoint(Callback):
    """Save the model's ``state_dict`` after each epoch (or only the best) with ``nf.save``: atomic writes.

    ``filepath`` may hold ``{epoch}`` and any logged value (``"ckpt-{epoch:02d}-{val_loss:.3f}.npz"``).
    ``save_optimizer=True`` saves ``{"model": ..., "optimizer": ...}`` instead.
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", save_optimizer: bool = False) -> None:
        self.filepath = os.fspath(filepath)
        self.save_best_only, self.save_optimizer = save_best_only, save_optimizer
        self._rule = _Monitor(monitor, mode)
        self.saved: list[str] = []

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, float]) -> None:
        from nbframe.io import save

        if self.save_best_only and not self._rule.improved(self._rule.value(logs)):
            return
        path = self.filepath.format(epoch=epoch, **logs)
        state: Any = trainer.model.state_dict()
        if self.save_optimizer:
            state = {"model": state, "optimizer": trainer.optimizer.state_dict()}
        save(state, path)
        self.saved.append(path)


class LRScheduler(Callback):
    """Step an ``nf.optim.lr_scheduler`` each epoch (``per="step"``: each step).

    Pass a scheduler, or a function ``optimizer -> scheduler`` when ``fit`` makes the optimizer.
    ``ReduceLROnPlateau`` is stepped with the epoch's ``monitor`` value.
    """

    def __init__(self, scheduler, per: str = "epoch", monitor: str = "val_loss") -> None:
        if per not in ("epoch", "step"):
            raise ValueError(f"LRScheduler: per must be 'epoch' or 'step', got {per!r}")
        self.scheduler, self.per, self.monitor = scheduler, per, monitor

    def on_fit_start(self, trainer) -> None:
        from nbframe.optim.lr_scheduler import LRScheduler as Scheduler

        if not isinstance(self.scheduler, Scheduler) and callable(self.scheduler):
            self.scheduler = self.scheduler(trainer.optimizer)

    def _step(self, logs: dict[str, float]) -> None:
        from nbframe.optim.lr_scheduler import ReduceLROnPlateau

        if isinstance(self.scheduler, ReduceLROnPlateau):
            self.scheduler.step(_Monitor(self.monitor, "min").value(logs))
        else:
            self.scheduler.step()

    def on_step_end(self, trainer, step: int, logs: dict[str, float]) -> None:
        if self.per == "step":
            self._step(logs)

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, float]) -> None:
        if self.per == "epoch":
            self._step(logs)


class CSVLogger(Callback):
    """Write one CSV row per epoch, flushed each time, so a crash keeps the epochs done.

    The last column, ``partial``, is ``False`` for a whole epoch and ``True`` for one a stop, an
    interrupt or an error cut short (written as the run ends: its values average the steps that
    ran, without validation values) — the rows match ``History.epochs`` and ``History.partial_epoch``.
    The columns are the first row's; ``append=True`` keeps an existing file's header.
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False) -> None:
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self._file, self._columns = None, None

    def on_fit_start(self, trainer) -> None:
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._columns = None
        if exists:
            with open(self.filename, newline="") as existing:
                self._columns = next(csv.reader(existing, delimiter=self.separator), None)

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, float]) -> None:
        self._write({"epoch": epoch, **logs, "partial": False})

    def on_partial_epoch(self, trainer, epoch: int, logs: dict[str, float]) -> None:
        self._write({"epoch": epoch, **logs, "partial": True})

    def _write(self, row: dict[str, Any]) -> None:
        if self._file is None:
            return
        writer = csv.writer(self._file, delimiter=self.separator)
        if self._columns is None:
            self._columns = list(row)
            writer.writerow(self._columns)
        writer.writerow([row.get(k, "") for k in self._columns])
        self._file.flush()

    def on_fit_end(self, trainer) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda trainer, epoch, logs: ...)``."""

    def __init__(self, on_fit_start: Callable | None = None, on_epoch_start: Callable | None = None,
                 on_step_end: Callable | None = None, on_epoch_end: Callable | None = None,
                 on_partial_epoch: Callable | None = None, on_fit_end: Callable | None = None) -> None:
        for name, function in (("on_fit_start", on_fit_start), ("on_epoch_start", on_epoch_start),
                               ("on_step_end", on_step_end), ("on_epoch_end", on_epoch_end),
                               ("on_partial_epoch", on_partial_epoch), ("on_fit_end", on_fit_end)):
            if function is not None:
                setattr(self, name, function)
