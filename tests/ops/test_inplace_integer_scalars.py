"""Integer tensors with Python ints their dtype can't hold: wrapped modulo 2**bits, as PyTorch does.

NumPy raises OverflowError for ``uint8_array - (-1)``; PyTorch casts the int to the tensor's dtype
(``-1`` becomes 255) and the arithmetic wraps. Out-of-place and in-place forms are both checked.
A value written into a tensor (``fill_``, ``t[i] = v``, ``masked_fill``, ``index_fill``, ``full``) and
``add``/``sub``'s ``alpha`` must fit the dtype instead (uint8 also takes negative ints), or raise
PyTorch's overflow error.
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


# Every way a Python number is written into an integer tensor: ``write(m, t, value)`` returns the result.
WRITES = {
    "setitem": lambda m, t, v: t.__setitem__(0, v) or t,
    "setitem_mask": lambda m, t, v: t.__setitem__(m.tensor([True, False, True]), v) or t,
    "masked_fill": lambda m, t, v: t.masked_fill(m.tensor([True, False, True]), v),
    "masked_fill_tensor": lambda m, t, v: t.masked_fill(m.tensor([False, True, True]), m.tensor(v)),
    "masked_fill_": lambda m, t, v: t.masked_fill_(m.tensor([True, False, True]), v),
    "index_fill": lambda m, t, v: t.index_fill(0, m.tensor([2]), v),
    "index_fill_": lambda m, t, v: t.index_fill_(0, m.tensor([0, 1]), v),
    "full": lambda m, t, v: m.full((3,), v, dtype=t.dtype),
    "full_like": lambda m, t, v: m.full_like(t, v),
    "new_full": lambda m, t, v: t.new_full((2,), v),
}


@pytest.mark.parametrize("dtype, value", FILLS)
@pytest.mark.parametrize("write", sorted(WRITES))
def test_value_written_into_a_tensor_is_converted_as_torch_does(write, dtype, value):
    torch = torch_or_skip()
    got, want = (WRITES[write](m, m.zeros(3, dtype=getattr(m, dtype)), value) for m in (nf, torch))
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("dtype, value", OVERFLOWING_FILLS)
@pytest.mark.parametrize("write", sorted(WRITES))
def test_value_written_into_a_tensor_that_cannot_hold_it_raises_torchs_error(write, dtype, value):
    torch = torch_or_skip()
    if write == "masked_fill_tensor" and abs(value) >= 2**63:
        pytest.skip("the 0-d value tensor itself can't be made")
    with pytest.raises((RuntimeError, ValueError)) as want:  # torch's setitem of 2**63: a ValueError
        WRITES[write](torch, torch.zeros(3, dtype=getattr(torch, dtype)), value)
    with pytest.raises(RuntimeError, match="without overflow") as got:
        WRITES[write](nf, nf.zeros(3, dtype=getattr(nf, dtype)), value)
    if want.type is RuntimeError:
        assert str(got.value) == str(want.value)


def test_full_infers_int64_and_refuses_an_int_beyond_it_as_torch():
    torch = torch_or_skip()
    assert nf.full((2,), 2**62).tolist() == torch.full((2,), 2**62).tolist()
    with pytest.raises(RuntimeError, match="int64_t without overflow"):
        nf.full((2,), 2**63)


ALPHAS = [("uint8", -1, 2), ("uint8", 3, 100), ("uint8", 200, -1), ("int8", 100, 3), ("int8", -128, -1),
          ("int16", 30000, 7), ("int32", 2**31 - 1, 2), ("int64", 2**62, 4), ("float32", 3, 2**40)]


@pytest.mark.parametrize("dtype, other, alpha", ALPHAS)
@pytest.mark.parametrize("op", ["add", "sub", "add_", "sub_"])
@pytest.mark.parametrize("other_is_tensor", [False, True])
def test_add_and_sub_with_alpha_wrap_as_torch(op, dtype, other, alpha, other_is_tensor):
    torch = torch_or_skip()
    results = []
    for m in (nf, torch):
        t = m.tensor(VALUES.get(dtype, [1, 2, 3, 4, 5]), dtype=getattr(m, dtype))
        operand = m.full((5,), other, dtype=t.dtype) if other_is_tensor else other
        if op.endswith("_"):
            out = getattr(t, op)(operand, alpha=alpha)
        else:
            out = getattr(m, op)(t, operand, alpha=alpha)
        results.append(out.numpy())
    np.testing.assert_array_equal(*results)


@pytest.mark.parametrize("dtype, alpha", [("uint8", 300), ("int8", 200), ("int32", 2**40), ("uint8", 2.5)])
def test_alpha_an_integer_tensor_cannot_hold_raises_torchs_error(dtype, alpha):
    torch = torch_or_skip()
    messages = []
    for m in (nf, torch):
        with pytest.raises(RuntimeError) as error:
            m.add(m.tensor([1, 2], dtype=getattr(m, dtype)), 1, alpha=alpha)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


BEYOND_64_BITS = ["t + 2**70", "t - 2**64", "t + (-2**63 - 1)", "m.add(t, 1, alpha=2**70)"]


@pytest.mark.parametrize("expression", BEYOND_64_BITS, ids=["2**70", "-2**64", "below int64", "alpha 2**70"])
def test_int_beyond_64_bits_raises_torchs_overflow_error(expression):
    torch = torch_or_skip()
    messages = []
    for m in (nf, torch):
        with pytest.raises(OverflowError) as error:
            eval(expression, {"m": m, "t": m.tensor([1, 2], dtype=m.int32)})  # noqa: S307 - fixed table
        messages.append(str(error.value))
    assert messages[0] == messages[1]
