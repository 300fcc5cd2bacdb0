"""%%model: the two cell forms, the options, and what stays bound when a cell fails."""

from __future__ import annotations

import numpy as np

import nbframe as nf
from nbframe import nn

from .conftest import needs_layers

pytestmark = needs_layers

STACK = """%%model net --input 2,4
fc1 = Linear(4, 16)   # a named layer
ReLU()

fc2 = Linear(16, 3)
"""


def test_stack_form_binds_a_sequential_with_named_and_numbered_children(shell, run):
    ran = run(STACK)
    assert ran.success, ran.stdout
    net = shell.user_ns["net"]
    assert isinstance(net, nn.Sequential)
    assert [name for name, _ in net.named_children()] == ["fc1", "1", "fc2"]
    assert net(nf.zeros(5, 4)).shape == (5, 3)


def test_input_shows_the_summary_with_output_shapes_and_totals(run):
    text = run(STACK).shown()
    assert "fc1 (Linear)" in text and "[2, 16]" in text and "[2, 3]" in text
    assert "Total params: 131" in text and "Trainable params: 131" in text
    assert "Params size: 524 B" in text


def test_no_summary_shows_nothing(run):
    ran = run(STACK.replace("--input 2,4", "--input 2,4 --no-summary"))
    assert ran.success and ran.outputs == []


def test_without_input_the_summary_lists_layers_and_parameters(run):
    text = run(STACK.replace(" --input 2,4", "")).shown()
    assert "fc2 (Linear)" in text and "Total params: 131" in text and "Output shape" not in text


def test_graph_form_makes_a_module_whose_forward_is_the_cell_function(shell, run):
    ran = run("""%%model twin --input (3,4)
hidden = 8
encoder = Linear(4, hidden)
head = Linear(hidden, 2)

def forward(x, scale=2.0):
    h = relu(encoder(x))          # relu from nbframe.nn.functional
    return head(h * scale)
""")
    assert ran.success, ran.stdout
    twin = shell.user_ns["twin"]
    assert type(twin).__name__ == "Twin" and isinstance(twin, nn.Module)
    assert [name for name, _ in twin.named_children()] == ["encoder", "head"]
    x = nf.randn(3, 4)
    expected = twin.head(nf.nn.functional.relu(twin.encoder(x)) * 2.0)
    np.testing.assert_allclose(twin(x).detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    assert "[3, 8]" in ran.shown()


def test_forward_sees_the_modules_own_layers_after_they_are_replaced(shell, run):
    run("%%model m\nfc = Linear(2, 2)\ndef forward(x):\n    return fc(x)\n")
    m = shell.user_ns["m"]
    m.fc = nn.Linear(2, 5)
    assert m(nf.zeros(1, 2)).shape == (1, 5)


def test_a_users_own_module_class_works_in_a_cell(shell, run):
    class Doubler(nn.Module):
        def forward(self, x):
            return x * 2

    shell.user_ns["Doubler"] = Doubler
    ran = run("%%model d --input 1,3\nDoubler()\nLinear(3, 1)\n")
    assert ran.success, ran.stdout
    assert isinstance(shell.user_ns["d"][0], Doubler)


def test_dtype_and_device_options_move_the_model(shell, run):
    ran = run(STACK.replace("--input 2,4", "--input 2,4 --dtype float64 --device cpu"))
    assert ran.success, ran.stdout
    assert all(p.dtype == nf.float64 for p in shell.user_ns["net"].parameters())


def test_keep_weights_keeps_unchanged_layers_and_names_the_reinitialised_ones(shell, run):
    run(STACK)
    old = shell.user_ns["net"]
    with nf.no_grad():
        old.fc1.weight.fill_(0.5)
    ran = run(STACK.replace("%%model net --input 2,4", "%%model net --keep-weights")
              .replace("Linear(16, 3)", "Linear(16, 4)"))
    assert ran.success, ran.stdout
    new = shell.user_ns["net"]
    assert new is not old
    assert np.all(new.fc1.weight.detach().numpy() == 0.5)
    assert "kept the weights of fc1" in ran.stdout
    assert "re-initialised fc2 (shape [3, 16] -> [4, 16])" in ran.stdout


def test_a_failing_cell_leaves_the_old_model_bound(shell, run):
    run(STACK)
    old = shell.user_ns["net"]
    ran = run(STACK.replace("Linear(16, 3)", "Linear(9, 3)"))
    assert not ran.success
    assert shell.user_ns["net"] is old


def test_help_lists_the_options(shell, run):
    ran = run("%%model?")
    text = ran.stdout + ran.shown()
    for option in ("--input", "--keep-weights", "--no-summary", "--graph", "--device", "--dtype"):
        assert option in text


def test_graph_option_draws_the_dry_run(run):
    ran = run(STACK.replace("--input 2,4", "--input 2,4 --graph"))
    assert ran.success, ran.stdout
    svg = ran.shown("image/svg+xml")
    assert "<svg" in svg and "net.fc1.weight" in svg


def test_nf_summary_is_the_same_table(shell, run):
    run(STACK)
    table = nf.summary(shell.user_ns["net"], (2, 4))
    assert [row.output_shape for row in table.rows] == [(2, 16), (2, 16), (2, 3)]
    assert table.total_params == 131 and "<table" in table._repr_html_()


def test_several_inputs_feed_a_forward_with_several_arguments(shell, run):
    ran = run("%%model pair --input (2,3),(2,5)\na = Linear(3, 4)\nb = Linear(5, 4)\n"
              "def forward(x, y):\n    return a(x) + b(y)\n")
    assert ran.success, ran.stdout
    assert "Input: [2, 3], [2, 5]" in ran.shown()


def test_nf_summary_does_not_need_ipython():
    import subprocess
    import sys

    code = ("import sys, nbframe as nf\nfrom nbframe import nn\n"
            "table = nf.summary(nn.Sequential(nn.Linear(4, 3)), (2, 4))\n"
            "print(table.total_params, 'IPython' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["15", "False"]
