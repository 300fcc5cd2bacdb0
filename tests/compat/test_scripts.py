"""PyTorch training scripts run unchanged on nbframe and reach PyTorch's results.

Each script under ``scripts/`` is plain PyTorch as its tutorials write it. It runs twice, in
two subprocesses side by side: with real PyTorch, and with nbframe answering every
``import torch...`` (``runner.py``); the source is never edited. A script prints its results
as ``name: number`` lines; each is compared between the two runs within the script's
tolerance (different random streams give different initial weights and batch orders, so
accuracies agree only approximately), and must also clear an absolute floor.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import nbframe as nf

pytest.importorskip("torch")
pytest.importorskip("sklearn")

HERE = Path(__file__).parent
RESULT_LINE = re.compile(r"^([a-z][a-z0-9 _]*): (-?[0-9.]+(?:e-?[0-9]+)?)$", re.MULTILINE)


@dataclass
class Expected:
    """What the two runs must agree on: ``{name: tolerance}`` and ``{name: floor}``."""

    tolerance: dict[str, float]
    floor: dict[str, float] = field(default_factory=dict)
    needs: tuple[str, ...] = ()  # nbframe.nn names the script needs that are not written yet


BACKENDS = ("torch", "nbframe")
SCRIPTS = {
    "mlp_digits.py": Expected({"accuracy": 0.04, "confident": 0.1}, {"accuracy": 0.93}),
    "cnn_digits.py": Expected({"accuracy": 0.04, "best validation accuracy": 0.05}, {"accuracy": 0.93}),
    # Fixed starting values: both runs must print the same numbers.
    "autograd_function_hooks.py": Expected(
        {"legendre loss": 1e-3, "legendre d": 1e-5, "hooked grad sum": 1e-4, "seen grad sum": 1e-4,
         "scaled grad sum": 1e-4, "retained grad sum": 1e-4, "second derivative sum": 1e-4,
         "fc1 activation mean": 1e-3, "fc2 grad output norm": 1e-4, "xor loss": 1e-3, "accuracy": 0},
        {"accuracy": 1.0}),
    "checkpoint_resume.py": Expected(
        {"accuracy": 0.04, "reloaded accuracy": 0.04, "resume difference": 0, "final lr": 0, "adam steps": 0},
        {"accuracy": 0.93}),
    "lstm_packed_sequences.py": Expected({"accuracy": 0.05}, {"accuracy": 0.9}, needs=("LSTM",)),
    "transformer_encoder.py": Expected({"accuracy": 0.05}, {"accuracy": 0.9},
                                       needs=("TransformerEncoder", "TransformerEncoderLayer")),
}


@pytest.fixture(scope="module")
def digits_file(tmp_path_factory) -> Path:
    """The digits split as plain NumPy arrays, as a user would load any data set."""
    from nbframe.datasets import Digits

    path = tmp_path_factory.mktemp("data") / "digits.npz"
    train, test = Digits(train=True), Digits(train=False)
    np.savez(path, x_train=train.data.numpy(), y_train=train.targets.numpy(),
             x_test=test.data.numpy(), y_test=test.targets.numpy())
    return path


def _start(backend: str, script: str, data: Path, workdir: Path) -> subprocess.Popen:
    workdir.mkdir()
    command = [sys.executable, str(HERE / "runner.py"), backend, str(HERE / "scripts" / script), str(data),
               str(workdir)]
    return subprocess.Popen(command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})


def _results(backend: str, process: subprocess.Popen) -> dict[str, float]:
    output, _ = process.communicate(timeout=180)
    assert process.returncode == 0, f"the script failed on {backend}:\n{output[-6000:]}"
    return {name: float(value) for name, value in RESULT_LINE.findall(output)}


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_script_runs_unchanged_and_matches_torch(script, digits_file, tmp_path):
    expected = SCRIPTS[script]
    missing = [name for name in expected.needs if not hasattr(nf.nn, name)]
    if missing:
        pytest.skip(f"nbframe.nn has no {', '.join(missing)} yet")
    runs = {backend: _start(backend, script, digits_file, tmp_path / backend) for backend in BACKENDS}
    torch_results = _results("torch", runs["torch"])
    nbframe_results = _results("nbframe", runs["nbframe"])
    assert set(expected.tolerance) <= set(torch_results), f"torch printed only {torch_results}"
    assert set(nbframe_results) == set(torch_results), (nbframe_results, torch_results)
    for name, tolerance in expected.tolerance.items():
        got, want = nbframe_results[name], torch_results[name]
        assert abs(got - want) <= tolerance, f"{name}: nbframe {got}, torch {want} (tolerance {tolerance})"
    for name, floor in expected.floor.items():
        for backend, results in (("torch", torch_results), ("nbframe", nbframe_results)):
            assert results[name] >= floor, f"{name} on {backend}: {results[name]} < {floor}"
