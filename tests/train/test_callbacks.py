import csv
import os

import numpy as np
import pytest

import nbframe as nf
from nbframe.train import CSVLogger, EarlyStopping, LambdaCallback, LRScheduler, ModelCheckpoint


def test_early_stopping_stops_when_the_monitored_value_stalls(blobs, mlp):
    stopper = EarlyStopping(monitor="loss", patience=2, min_delta=10.0)  # nothing improves by 10
    history = nf.fit(mlp, blobs, epochs=10, callbacks=[stopper], progress=None)
    assert len(history.epochs) == 3  # the first epoch sets the best, two more without improvement
    assert history.stopped.startswith("EarlyStopping") and stopper.stopped_epoch == 3


def test_early_stopping_restores_the_best_weights(blobs, mlp):
    seen = {}

    class Remember(nf.train.Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            weights = {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()}
            seen[epoch] = (logs["val_loss"], weights)

    noisy_val = (blobs[0][:32], 1 - blobs[1][:32])  # the model gets worse on it as it learns
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    nf.fit(mlp, blobs, val=noisy_val, epochs=8, lr=1e-2, callbacks=[Remember(), stopper], progress=None)
    best_epoch = min(seen, key=lambda e: seen[e][0])
    for name, value in mlp.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), seen[best_epoch][1][name])


def test_early_stopping_names_a_missing_monitor(blobs, mlp):
    with pytest.raises(KeyError, match="monitor 'val_loss' is not among"):
        nf.fit(mlp, blobs, callbacks=[EarlyStopping()], progress=None)


def test_model_checkpoint_writes_loadable_files_per_epoch(blobs, mlp, tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "ckpt-{epoch}.npz", monitor="loss")
    nf.fit(mlp, blobs, epochs=2, callbacks=[checkpoint], progress=None)
    assert sorted(os.listdir(tmp_path)) == ["ckpt-1.npz", "ckpt-2.npz"]
    state = nf.load(tmp_path / "ckpt-2.npz")
    for name, value in mlp.state_dict().items():
        np.testing.assert_array_equal(state[name].numpy(), value.numpy())


def test_model_checkpoint_save_best_only_keeps_the_best(blobs, mlp, tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "best.npz", monitor="loss", save_best_only=True,
                                 save_optimizer=True)
    nf.fit(mlp, blobs, epochs=3, lr=1e-2, callbacks=[checkpoint], progress=None)
    assert len(checkpoint.saved) == 3  # the training loss fell every epoch
    state = nf.load(tmp_path / "best.npz")
    assert set(state) == {"model", "optimizer"}


def test_model_checkpoint_is_atomic_an_interrupted_save_keeps_the_old_file(blobs, mlp, tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    nf.fit(mlp, blobs, epochs=1, callbacks=[ModelCheckpoint(path, monitor="loss")], progress=None)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk vanished mid-write")

    monkeypatch.setattr(np, "savez", crash)
    monkeypatch.setattr(np, "savez_compressed", crash)
    with pytest.raises(OSError):
        nf.fit(mlp, blobs, epochs=1, callbacks=[ModelCheckpoint(path, monitor="loss")], progress=None)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind


def test_lr_scheduler_steps_each_epoch_or_each_step(blobs, mlp):
    schedule = LRScheduler(lambda optimizer: nf.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5))
    history = nf.fit(mlp, blobs, epochs=3, batch_size=128, optimizer="sgd", lr=0.8, callbacks=[schedule],
                     progress=None)
    assert [row["lr"] for row in history.steps] == [0.8, 0.8, 0.4, 0.4, 0.2, 0.2]
    per_step = LRScheduler(lambda optimizer: nf.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5),
                           per="step")
    history = nf.fit(mlp, blobs, epochs=1, batch_size=64, optimizer="sgd", lr=0.8, callbacks=[per_step],
                     progress=None)
    assert [row["lr"] for row in history.steps] == [0.8, 0.4, 0.2, 0.1]


def test_lr_scheduler_feeds_reduce_on_plateau_the_monitored_value(blobs, mlp):
    optimizer = nf.optim.SGD(mlp.parameters(), lr=0.5)
    plateau = nf.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, threshold=10.0)
    nf.fit(mlp, blobs, epochs=2, optimizer=optimizer, callbacks=[LRScheduler(plateau, monitor="loss")],
           progress=None)
    assert optimizer.param_groups[0]["lr"] < 0.5


def test_csv_logger_writes_a_header_and_one_row_per_epoch(blobs, mlp, tmp_path):
    path = tmp_path / "log.csv"
    nf.fit(mlp, blobs, epochs=2, callbacks=[CSVLogger(path)], progress=None)
    nf.fit(mlp, blobs, epochs=1, callbacks=[CSVLogger(path, append=True)], progress=None)
    rows = list(csv.reader(open(path)))
    assert rows[0] == ["epoch", "loss", "accuracy", "partial"]
    assert [(row[0], row[-1]) for row in rows[1:]] == [("1", "False"), ("2", "False"), ("1", "False")]


def _csv_rows(path) -> list[dict[str, str]]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def _assert_rows_match_history(rows, history):
    assert [int(row["epoch"]) for row in rows] == [int(row["epoch"]) for row in history.epochs]
    assert [row["partial"] == "True" for row in rows] == [row["epoch"] == history.partial_epoch
                                                         for row in history.epochs]
    for row, kept in zip(rows, history.epochs):
        for name, value in kept.items():
            assert float(row[name]) == pytest.approx(value), name


def test_csv_logger_writes_and_flushes_a_partial_row_for_an_epoch_a_stop_cut_short(blobs, mlp, tmp_path):
    path = tmp_path / "log.csv"
    seen_on_disk = []  # what the file holds when the next callback hears of the partial epoch
    later = LambdaCallback(on_partial_epoch=lambda trainer, epoch, logs: seen_on_disk.append(_csv_rows(path)))
    stopper = LambdaCallback(on_step_end=lambda trainer, step, logs: step == 10 and trainer.stop("test"))
    history = nf.fit(mlp, blobs, val=(blobs[0][:32], blobs[1][:32]), epochs=3,
                     callbacks=[stopper, CSVLogger(path), later], progress=None)
    rows = _csv_rows(path)
    assert [(row["epoch"], row["partial"]) for row in rows] == [("1", "False"), ("2", "True")]
    assert rows[1]["val_loss"] == "" and rows[0]["val_loss"] != ""  # half an epoch is not validated
    assert seen_on_disk == [rows]  # flushed at once, before the run ends
    _assert_rows_match_history(rows, history)


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_csv_logger_keeps_the_partial_epoch_when_an_interrupt_or_an_error_ends_the_run(blobs, mlp, tmp_path,
                                                                                        error):
    def crash(trainer, step, logs):
        if step == 12:
            raise error

    path = tmp_path / "log.csv"
    kept = {}
    keep_history = LambdaCallback(on_step_end=crash,
                                  on_fit_end=lambda trainer: kept.update(h=trainer.history))
    with pytest.raises(error):
        nf.fit(mlp, blobs, epochs=3, progress=None, callbacks=[CSVLogger(path), keep_history])
    rows = _csv_rows(path)
    assert [(row["epoch"], row["partial"]) for row in rows] == [("1", "False"), ("2", "True")]
    _assert_rows_match_history(rows, kept["h"])
