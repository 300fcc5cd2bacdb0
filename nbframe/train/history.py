"""``History``: what a ``fit`` run measured, per step and per epoch."""

from __future__ import annotations

from typing import Any


class History:
    """Per-step rows (``step``, ``epoch``, ``loss``, metrics, ``lr``) and per-epoch rows (train and ``val_``).

    ``history.history`` is Keras' view: each per-epoch metric as a list.
    ``stopped`` says why training ended early (``"stop button"``, ``"KeyboardInterrupt"``,
    ``"EarlyStopping"``, or an exception's name such as ``"ValueError"`` when one ended it), or is None
    when every epoch ran. ``partial_epoch`` is the number of the last epoch when a stop, an interrupt or
    an error cut it short (its row averages the steps that ran, has no validation values, and is never
    the best epoch); ``CSVLogger`` and ``to_pandas()`` mark that row in their ``partial`` column.
    """

    def __init__(self, run: str = "run") -> None:
        self.run = run
        self.steps: list[dict[str, float]] = []
        self.epochs: list[dict[str, float]] = []
        self.stopped: str | None = None
        self.partial_epoch: int | None = None

    def log_step(self, row: dict[str, float]) -> None:
        self.steps.append(dict(row))

    def log_epoch(self, row: dict[str, float], partial: bool = False) -> None:
        self.epochs.append(dict(row))
        if partial:
            self.partial_epoch = int(row["epoch"])

    @property
    def history(self) -> dict[str, list[float]]:
        names: list[str] = []
        for row in self.epochs:
            names += [k for k in row if k != "epoch" and k not in names]
        return {name: [row.get(name, float("nan")) for row in self.epochs] for name in names}

    def best_epoch(self, monitor: str = "val_loss", mode: str = "min") -> int | None:
        """The epoch number with the best ``monitor`` value (None when it was never measured)."""
        rows = [row for row in self.epochs if monitor in row and row["epoch"] != self.partial_epoch]
        if not rows:
            return None
        pick = min if mode == "min" else max
        return int(pick(rows, key=lambda row: row[monitor])["epoch"])

    def to_pandas(self, per: str = "epoch") -> Any:
        """A ``pandas.DataFrame`` of the epoch rows with a last ``partial`` column, as ``CSVLogger`` writes
        them (``per="step"``: the step rows); needs pandas."""
        try:
            import pandas
        except ImportError:
            raise ImportError("History.to_pandas() needs pandas (pip install pandas); the rows are in "
                              "history.epochs and history.steps as lists of dicts") from None
        if per != "epoch":
            return pandas.DataFrame(self.steps)
        rows = [{**row, "partial": row["epoch"] == self.partial_epoch} for row in self.epochs]
        return pandas.DataFrame(rows)

    def plot(self):
        """A static picture of the curves (SVG in a notebook, text elsewhere), drawn like the dashboard's."""
        from .progress import static_plot

        return static_plot(self)

    def __len__(self) -> int:
        return len(self.epochs)

    def __repr__(self) -> str:
        last = self.epochs[-1] if self.epochs else {}
        facts = ", ".join(f"{k}={v:.4g}" for k, v in last.items() if k != "epoch")
        stop = f", stopped by {self.stopped}" if self.stopped else ""
        partial = f" (epoch {self.partial_epoch} partial)" if self.partial_epoch is not None else ""
        counts = f"{len(self.epochs)} epochs{partial}, {len(self.steps)} steps"
        return f"<History {self.run!r}: {counts}{stop}; last: {facts}>"
