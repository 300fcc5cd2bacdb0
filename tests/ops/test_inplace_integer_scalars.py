"""Integer tensors with Python ints their dtype can't hold: wrapped modulo 2**bits, as PyTorch does.

NumPy raises OverflowError for ``uint8_array - (-1)``; PyTorch casts the int to the tensor's dtype
(``-1`` becomes 255) and the arithmetic wraps. Out-of-place and in-place forms are both checked.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import torch_or_skip

VALUES = {"uint8": [0, 1, 2, 200, 255], "int8": [1, -2, 100, -128, 127], "int16": [1, -2, 30000, 0, 5],
          "int32": [1, -2, 2**31 - 1, 0, 7], "int64": [1, -2, 2**62, 0, 7]}

EXPRESSIONS = [
    "t - 3", "t + -1", "t * -1", "3 - t", "-1 - t", "t + 300", "t - 256", "t + 2**40", "t * 2**63",
    "t // -1", "t % -3", "t & -1", "t | -2", "t ^ -1", "t < -1", "t == 257", "t > 300",
    "t.add(-1)", "t.sub(3)", "t.mul(-2)", "m.where(t > 1, t, -1)", "m.maximum(t, m.tensor(-1))",
]


@pytest.mark.parametrize("dtype", sorted(VALUES))
@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_integer_tensor_with_out_of_range_python_int_wraps_as_in_torch(dtype, expression):
    torch = torch_or_skip()
    results = []
    for m in (nf, torch):
        t = m.tensor(VALUES[dtype], dtype=getattr(m, dtype))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            results.append(eval(expression, {"m": m, "t": t}))  # noqa: S307 - a fixed table of expressions
    got, want = results
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("method, operand", [("add_", -1), ("sub_", 3), ("mul_", -3), ("add_", 1000)])
def test_in_place_arithmetic_on_uint8_with_out_of_range_int_wraps_as_in_torch(method, operand):
    torch = torch_or_skip()
    results = []
    for m in (nf, torch):
        t = m.tensor(VALUES["uint8"], dtype=m.uint8)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert getattr(t, method)(operand) is t
        results.append(t.numpy())
    np.testing.assert_array_equal(*results)


def test_wrap_int_keeps_in_range_values_and_wraps_the_rest():
    from nbframe.ops.promotion import wrap_int

    assert wrap_int(-1, np.dtype(np.uint8)) == 255
    assert wrap_int(255, np.dtype(np.uint8)) == 255
    assert wrap_int(200, np.dtype(np.int8)) == -56
    assert wrap_int(-129, np.dtype(np.int8)) == 127
    assert wrap_int(2**63, np.dtype(np.int64)) == -(2**63)


FILLS = [("uint8", -1), ("uint8", -129), ("uint8", 255), ("uint8", 1.5), ("int8", -128), ("int8", 127),
         ("int32", -(2**31)), ("int64", 2**62), ("bool", 2), ("float32", 1e10)]
OVERFLOWING_FILLS = [("uint8", 256), ("uint8", -1.5), ("int8", 128), ("int8", -129), ("int16", 40000),
                     ("int32", 2**31), ("int64", 2**63), ("int8", 300.0)]


@pytest.mark.parametrize("dtype, value", FILLS)
def test_fill_converts_the_value_as_torch_does(dtype, value):
    torch = torch_or_skip()
    got = nf.zeros(3, dtype=getattr(nf, dtype)).fill_(value)
    want = torch.zeros(3, dtype=getattr(torch, dtype)).fill_(value)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("dtype, value", OVERFLOWING_FILLS)
def test_fill_with_a_value_the_dtype_cannot_hold_raises_torchs_error(dtype, value):
    torch = torch_or_skip()
    with pytest.raises(RuntimeError) as want:
        torch.zeros(3, dtype=getattr(torch, dtype)).fill_(value)
    with pytest.raises(RuntimeError, match="without overflow") as got:
        nf.zeros(3, dtype=getattr(nf, dtype)).fill_(value)
    assert str(got.value) == str(want.value)
