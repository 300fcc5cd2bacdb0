"""%graph (static SVG now, DOT text when no graphviz runs) and %nbframe info | device | seed | dtype."""

from __future__ import annotations

import re

import pytest
from nbframe.magics.cell_error import CellError
from nbframe.widgets import layout

import nbframe as nf

from .conftest import needs_layers


@pytest.fixture
def loss_cell(run):
    run("w = nf.ones(2, 3, requires_grad=True)\nx = nf.ones(3)\nloss = (w @ x).relu().sum()\n")
    return run


def test_graph_of_a_tensor_draws_its_ops_and_named_leaves(loss_cell):
    ran = loss_cell("%graph loss")
    assert ran.success, ran.stdout
    svg = ran.shown("image/svg+xml")
    assert svg.startswith("<svg")
    for label in ("matmul", "relu", "sum", "w", "loss"):
        assert f">{label}</text>" in svg or f">{label} " in svg or label in svg
    text = ran.shown()
    assert "n0: sum [] <- n1" in text and "n2: matmul [2] <- n3" in text and "w [2, 3]" in text


def test_the_same_graph_draws_the_same_way_every_time(loss_cell):
    first = loss_cell("%graph loss").shown("image/svg+xml")
    assert loss_cell("%graph loss").shown("image/svg+xml") == first


def test_depth_stops_the_walk(loss_cell):
    text = loss_cell("%graph loss --depth 1").shown()
    assert "matmul" not in text and "…" in text


def test_grads_shows_gradient_norms_of_leaves(loss_cell):
    loss_cell("loss.backward()")
    text = loss_cell("%graph loss --grads").shown()
    assert re.search(r"w \[2, 3\] \|grad\| 2\.45e\+00", text)


def test_without_a_layout_engine_the_dot_text_and_how_to_install(loss_cell, monkeypatch):
    monkeypatch.setattr(layout, "find_engine", lambda: None)
    ran = loss_cell("%graph loss")
    assert ran.success and "Traceback" not in ran.stdout
    text = ran.shown()
    assert text.startswith("no graphviz layout engine ran") and "pip install graphviz-pure" in text
    assert "digraph autograd {" in text and "image/svg+xml" not in ran.outputs[0]


def test_a_broken_layout_engine_falls_back_to_dot_text(loss_cell, monkeypatch):
    monkeypatch.setattr(layout, "find_engine", lambda: "/bin/false")
    ran = loss_cell("%graph loss")
    assert ran.success and "graphviz (/bin/false) failed" in ran.shown()


def test_a_leaf_has_no_graph_and_says_so(loss_cell):
    ran = loss_cell("%graph w")
    assert isinstance(ran.error, CellError) and "no graph (no grad_fn)" in ran.stdout


@needs_layers
def test_graph_of_a_model_needs_an_input_and_names_parameters_by_path(run):
    run("%%model net --no-summary\nLinear(4, 3)\nReLU()\n")
    ran = run("%graph net")
    assert isinstance(ran.error, CellError) and "--input" in ran.stdout
    ran = run("%graph net --input 2,4")
    assert ran.success, ran.stdout
    text = ran.shown()
    assert "net.0.weight [3, 4]" in text and "net.0.bias [3]" in text and "output [2, 3]" in text


def test_info_lists_versions_devices_defaults_and_the_graphviz_engine(run):
    text = run("%nbframe info").shown()
    for fact in ("nbframe", nf.__version__, "NumPy", "CuPy", "CUDA", "default dtype", "graphviz"):
        assert fact in text


def test_seed_makes_random_numbers_repeat(run):
    run("%nbframe seed 7\na = nf.rand(3)")
    ran = run("%nbframe seed 7\nb = nf.rand(3)\nassert (a == b).all()")
    assert ran.success and "seeded nbframe, NumPy and random with 7" in ran.stdout


def test_dtype_sets_the_default_floating_dtype(run):
    try:
        ran = run("%nbframe dtype float64\nz = nf.zeros(2)\nassert z.dtype == nf.float64")
        assert ran.success, ran.stdout
    finally:
        nf.set_default_dtype(nf.float32)
    assert "UsageError" in run("%nbframe dtype int64").stdout


def test_device_cpu_is_accepted_and_cuda_without_a_gpu_is_a_clear_error(run):
    assert "on cpu" in run("%nbframe device cpu").stdout
    if not nf.backend.cuda.is_available():
        ran = run("%nbframe device cuda")
        assert not ran.success and "no CUDA GPU is available" in ran.stdout


def test_a_setting_without_a_value_says_what_to_write(run):
    ran = run("%nbframe seed")
    assert not ran.success and "%nbframe seed 0" in ran.stdout


def test_grads_colour_op_to_op_edges_when_the_backward_kept_the_graph(loss_cell):
    loss_cell("loss.backward(retain_graph=True)")
    svg = loss_cell("%graph loss --grads").shown("image/svg+xml")
    assert re.search(r'n1&#45;&gt;n0</title>\s*<g[^>]*><a xlink:title="\|grad\| 1\.41e\+00"', svg)


def test_grads_after_a_backward_that_freed_the_graph_still_colour_the_leaves(loss_cell):
    loss_cell("loss.backward()")
    svg = loss_cell("%graph loss --grads").shown("image/svg+xml")
    assert re.search(r'n3&#45;&gt;n2</title>\s*<g[^>]*><a xlink:title="\|grad\| 2\.45e\+00"', svg)
    assert "not recorded" in svg


def test_the_notebooks_tensors_label_the_ops_that_made_them(run):
    run("x = nf.ones(4, 5, requires_grad=True)\nh = x.exp()\nout = (h * 2).sum()\nout.backward()")
    assert "exp [4, 5]" in run("%graph out").shown()


@needs_layers
def test_depth_folds_a_models_modules_into_boxes(run):
    run("%%model net --no-summary\nLinear(4, 3)\nReLU()\nLinear(3, 2)\n")
    text = run("%graph net --input 2,4 --depth 0").shown()
    assert "0 (Linear) [2, 3]" in text and "2 (Linear) [2, 2]" in text and "net.0.weight" not in text
