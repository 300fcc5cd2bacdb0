"""benchmarks/gpu.py: says so and exits 1 without a GPU; its models are the same in both frameworks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import nbframe as nf

from . import fake_cuda

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("benchmark_gpu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_a_gpu_the_benchmark_says_so_and_exits_1(bench, capsys):
    if nf.cuda.is_available():
        pytest.skip("there is a GPU here")
    assert bench.main(["--skip-training"]) == 1
    assert "needs a CUDA GPU, and there is none here" in capsys.readouterr().out


@pytest.mark.parametrize("workload", ["MLP 784-512-256-10, b128", "LeNet-5 1x28x28, b64",
                                      "ResNet-18 CIFAR 3x32x32, b128"])
def test_each_training_workload_has_the_same_parameters_in_nbframe_and_torch(bench, workload):
    torch = pytest.importorskip("torch")
    builder = bench.WORKLOADS[workload][0]
    ours, theirs = builder(nf), builder(torch)
    assert [tuple(p.shape) for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]


def test_a_training_step_of_the_benchmark_runs_through_the_kernels(bench, monkeypatch):
    launches = fake_cuda.install(monkeypatch)
    rate = bench._steps_per_second(nf, lambda: None, bench._lenet, 4, (1, 28, 28), 1)
    assert rate > 0 and np.isfinite(rate)
    assert {"im2col", "maxpool2d_forward", "cross_entropy_forward", "sgd_step"} <= {x.name for x in launches}


def test_every_kernel_case_of_the_benchmark_runs_our_side_at_a_small_size(bench, monkeypatch):
    launches = fake_cuda.install(monkeypatch)
    monkeypatch.setattr(bench, "SHAPES", {
        "rows": (16, 40), "logits": (8, 50), "layer_norm": (12, 64), "optimizer": 1000, "dropout": 4096,
        "pool": (2, 3, 12, 12), "conv_input": (2, 3, 6, 6), "embedding": (2, 5, 8, 30)})
    cases = bench._kernel_cases(fake_cuda.FakeCupy(), None)
    for name, nbytes, ours, theirs in cases:
        assert nbytes > 0 and theirs is None, name
        ours()
    assert len(cases) == 17
    kernels = {launch.name for launch in launches}
    assert kernels == set(fake_cuda._REFERENCES) - {"fused_elementwise"}
