"""Rich display of Tensor and Module, and loading/unloading the extension."""

from __future__ import annotations

import warnings

import nbframe as nf
from nbframe import nn

from .conftest import needs_layers


def formatted(shell, value) -> dict:
    data, _ = shell.display_formatter.format(value)
    return data


def test_a_tensor_shows_shape_dtype_device_grad_state_and_a_preview(shell):
    t = nf.ones(2, 3, requires_grad=True) * 2
    data = formatted(shell, t)
    html = data["text/html"]
    assert "shape [2, 3]" in html and "float32" in html and "cpu" in html
    assert "grad_fn=MulBackward0" in html and "2., 2., 2." in html
    assert data["text/plain"] == repr(t)  # PyTorch's printout stays the text form


def test_a_leaf_tensor_says_it_requires_grad(shell):
    assert "requires_grad (leaf)" in formatted(shell, nf.zeros(2, requires_grad=True))["text/html"]


@needs_layers
def test_a_module_shows_its_summary_table(shell, run):
    run("%%model net --input 2,4 --no-summary\nfc1 = Linear(4, 16)\nReLU()\nfc2 = Linear(16, 3)\n")
    html = formatted(shell, shell.user_ns["net"])["text/html"]
    assert "<table" in html and "fc2 (Linear)" in html and "[2, 16]" in html and "131" in html
    plain = nn.Sequential(nn.Linear(2, 2))
    html = formatted(shell, plain)["text/html"]
    assert "0 (Linear)" in html and "Output shape" not in html


def test_loading_twice_is_harmless(shell, run):
    shell.run_line_magic("load_ext", "nbframe")
    nf.load_ipython_extension(shell)
    ran = run("%%watch --out rec\ny = nf.ones(1) * 2\n")
    assert ran.success and len(shell.user_ns["rec"]) == 1 and len(ran.outputs) == 1


def test_unloading_removes_magics_and_displays(shell, run):
    shell.run_line_magic("unload_ext", "nbframe")
    try:
        for magic, kind in (("model", "cell"), ("watch", "cell"), ("graph", "line"), ("nbframe", "line")):
            assert shell.find_magic(magic, kind) is None
        assert "text/html" not in formatted(shell, nf.ones(2))
        ran = run("%%model net\nLinear(2, 2)\n")
        assert not ran.success
    finally:
        shell.run_line_magic("load_ext", "nbframe")
    assert shell.find_magic("model", "cell") is not None
    assert "text/html" in formatted(shell, nf.ones(2))


def test_the_terminal_shell_gets_text_for_everything_shown(run):
    run("x = nf.ones(2, requires_grad=True)\ny = (x * 2).sum()")
    for cell in ("%graph y", "%nbframe info", "%%watch\nz = nf.ones(2) + 1\n"):
        ran = run(cell)
        assert ran.success and all(o.get("text/plain") for o in ran.outputs), cell


def test_in_a_kernel_graph_and_watch_show_their_widgets_with_static_fallbacks(run, monkeypatch):
    from nbframe.magics import display

    monkeypatch.setattr(display, "in_kernel", lambda: True)
    run("x = nf.ones(2, requires_grad=True)\ny = (x * 2).sum()")
    for cell, fallback in (("%graph y", "text/plain"), ("%%watch\nz = nf.ones(2) + 1\n", "text/html")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a widget that fails would fall back with a warning
            ran = run(cell)
        assert ran.success, ran.stdout
        assert "application/vnd.jupyter.widget-view+json" in ran.outputs[0] and fallback in ran.outputs[0]
