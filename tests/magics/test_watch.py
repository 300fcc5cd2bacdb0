"""%%watch: every op recorded with shapes, dtypes, statistics and cell line; --nan stops at the first NaN."""

from __future__ import annotations

import pytest
from nbframe.magics.cell_error import NanError

import nbframe as nf
from nbframe.autograd import observers
from nbframe.debug import OpRecord

CELL = """%%watch --out rec
x = nf.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x * 2

loss = y.sum()
loss
"""


def test_records_each_op_with_shapes_dtypes_statistics_and_cell_line(shell, run):
    ran = run(CELL)
    assert ran.success, ran.stdout
    record = shell.user_ns["rec"]
    assert [r.op for r in record] == ["mul", "sum"]
    mul = record[0]
    assert isinstance(mul, OpRecord)
    assert mul.inputs == [((3,), "float32")] and mul.outputs == [((3,), "float32")]
    assert mul.line == 3 and record[1].line == 5
    assert mul.stats["min"] == 2.0 and mul.stats["max"] == 6.0 and mul.stats["mean"] == pytest.approx(4.0)
    assert mul.stats["nan"] == 0 and mul.seconds >= 0


def test_the_cell_value_is_returned_and_the_table_shown(run):
    ran = run(CELL)
    assert "tensor(12., grad_fn=<SumBackward0>)" in ran.stdout  # the Out[] of the cell
    table = ran.shown()
    assert "%%watch: 2 ops" in table and "mul" in table and "<table" in ran.shown("text/html")


def test_backward_ops_are_recorded_at_the_backward_line(shell, run):
    run(CELL + "loss.backward()\n")
    record = shell.user_ns["rec"]
    assert len(record) > 2 and all(r.line == 7 for r in record[2:])


def test_ops_pattern_records_only_matching_ops(shell, run):
    run(CELL.replace("--out rec", "--out rec --ops ^sum$"))
    assert [r.op for r in shell.user_ns["rec"]] == ["sum"]


def test_nan_stops_at_the_first_op_that_makes_a_nan_and_says_why(shell, run):
    ran = run("""%%watch --nan
x = nf.tensor([1.0, -1.0, 2.0])
y = x * 2
z = nf.log(y)
after = 1
""")
    assert isinstance(ran.error, NanError)
    first = ran.stdout.strip().splitlines()[0]
    assert first == ("NaNError: cell line 4: nf.log(y) produced NaN at 1 of 3 elements; "
                     "the input had negative values")
    assert "z = nf.log(y)" in ran.stdout and "Traceback" not in ran.stdout
    assert "after" not in shell.user_ns and "z" not in shell.user_ns


def test_nan_reports_division_by_zero_as_inf(run):
    ran = run("%%watch --nan\nx = nf.tensor([1.0, 2.0])\ny = x / nf.tensor([1.0, 0.0])\n")
    assert "produced Inf at 1 of 2 elements; the divisor had zeros" in ran.stdout


def test_nan_lets_a_clean_cell_finish(shell, run):
    ran = run("%%watch --nan\nx = nf.tensor([1.0, 2.0]).log()\n")
    assert ran.success and "x" in shell.user_ns


def test_the_observer_is_removed_after_the_cell_even_when_it_fails(run):
    ran = run("%%watch\nx = nf.ones(2) * 2\nraise ValueError('boom')\n")
    assert isinstance(ran.error, ValueError)
    assert observers.OBSERVERS == []
    assert "1 ops" in ran.shown()


def test_watch_costs_nothing_outside_the_cell(run):
    run(CELL)
    assert observers.OBSERVERS == []
    assert (nf.ones(2) * 2).sum().item() == 4.0


def test_a_bad_ops_pattern_is_a_usage_error(run):
    ran = run("%%watch --ops (\nx = 1\n")
    assert not ran.success and "not a regular expression" in ran.stdout


def test_each_ops_output_is_kept_for_histograms_unless_no_tensors(shell, run):
    run(CELL)
    assert shell.user_ns["rec"][0].tensor.tolist() == [2.0, 4.0, 6.0]
    run(CELL.replace("--out rec", "--out rec --no-tensors"))
    assert shell.user_ns["rec"][0].tensor is None and shell.user_ns["rec"][0].stats["max"] == 6.0
