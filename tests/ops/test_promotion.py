"""PyTorch's type promotion for every binary op, over a table of operand kinds, compared with torch.

An operand is a tensor with dimensions, a 0-d tensor, or a Python number; the
result dtype depends on all three categories (bool < integer < float) and on
which kind brings the highest one. Each case runs in nbframe and in torch; the
dtypes and values must agree, and where torch refuses, nbframe refuses too.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import torch_or_skip

VALUES = {"bool": [True, False, True], "uint8": [1, 2, 3], "int8": [1, -2, 3], "int32": [4, 5, -6],
          "int64": [7, -8, 9], "float16": [0.5, 1.5, -2.5], "float32": [0.25, -1.25, 2.5],
          "float64": [3.5, 0.75, -1.5]}

# (label, how to make it): tensors with dimensions, 0-d tensors, Python numbers
OPERANDS = [(f"{d}[3]", ("tensor", d)) for d in VALUES] + [
    ("float64[]", ("zero_dim", "float64")), ("int64[]", ("zero_dim", "int64")),
    ("float32[]", ("zero_dim", "float32")), ("bool[]", ("zero_dim", "bool")),
    ("int 2", ("number", 2)), ("float 0.5", ("number", 0.5)), ("bool True", ("number", True)),
]

BINARY_OPS = ["add", "sub", "mul", "div", "remainder", "fmod", "floor_divide", "pow", "maximum", "minimum",
              "eq", "lt", "ge", "atan2", "copysign", "logical_and", "bitwise_and", "bitwise_xor"]


def _make(module, spec):
    kind, what = spec
    if kind == "number":
        return what
    values = VALUES[what] if kind == "tensor" else VALUES[what][0]
    if what == "float16" and module is nf:
        return nf.tensor(values, dtype=nf.float16)
    return module.tensor(values, dtype=getattr(module, what))


def _run(module, op, a, b):
    try:
        return getattr(module, op)(_make(module, a), _make(module, b)), None
    except (RuntimeError, TypeError, ValueError, OverflowError, NotImplementedError) as exc:
        return None, exc


def _pairs():
    for (la, a), (lb, b) in itertools.product(OPERANDS, OPERANDS):
        if a[0] == "number" and b[0] == "number":
            continue
        yield pytest.param(a, b, id=f"{la}-{lb}")


@pytest.mark.parametrize("op", BINARY_OPS)
def test_binary_op_result_dtype_and_values_match_torch_over_operand_table(op):
    torch = torch_or_skip()
    mismatches = []
    for param in _pairs():
        a, b = param.values
        got, got_error = _run(nf, op, a, b)
        want, want_error = _run(torch, op, a, b)
        if want_error is not None:
            # torch's Python binding refusing a number where it wants a tensor is a signature matter
            # (nbframe is lenient there); any other refusal must be matched.
            if isinstance(want_error, TypeError):
                continue
            if got_error is None:
                mismatches.append(f"{param.id}: torch raises {want_error!r}, nbframe gives {got.dtype}")
            continue
        if got_error is not None:
            mismatches.append(f"{param.id}: nbframe raises {got_error!r}, torch gives {want.dtype}")
            continue
        if str(got.dtype).split(".")[-1] != str(want.dtype).split(".")[-1]:
            mismatches.append(f"{param.id}: nbframe {got.dtype}, torch {want.dtype}")
            continue
        tol = 1e-2 if "float16" in str(want.dtype) else 1e-6
        np.testing.assert_allclose(got.numpy().astype(np.float64), want.numpy().astype(np.float64),
                                   rtol=tol, atol=tol, err_msg=f"{op} {param.id}")
    assert not mismatches, f"{op}:\n" + "\n".join(mismatches)


def test_int_tensor_plus_float_scalar_is_float32():
    assert (nf.tensor([1, 2]) + 0.5).dtype == nf.float32


def test_int_over_int_true_division_is_float32():
    out = nf.tensor([1, 3]) / nf.tensor([2, 2])
    assert out.dtype == nf.float32 and out.tolist() == [0.5, 1.5]


def test_zero_dim_float64_does_not_widen_a_float32_tensor():
    assert (nf.ones(3) * nf.tensor(2.0, dtype=nf.float64)).dtype == nf.float32


def test_zero_dim_float_tensor_lifts_an_int_tensor_to_its_dtype():
    assert (nf.tensor([1, 2]) + nf.tensor(0.5, dtype=nf.float64)).dtype == nf.float64


def test_bool_plus_int_scalar_is_int64():
    assert (nf.tensor([True, False]) + 1).dtype == nf.int64


def test_float16_stays_float16_with_python_float():
    assert (nf.tensor([1.0], dtype=nf.float16) * 2.5).dtype == nf.float16


def test_ternary_ops_promote_over_all_operands_like_torch():
    torch = torch_or_skip()
    cases = [
        lambda m: m.where(m.tensor([True, False]), m.tensor([1, 2]), 0.5),
        lambda m: m.where(m.tensor([True, False]), m.tensor([1, 2], dtype=m.int32), m.tensor([1, 2])),
        lambda m: m.clamp(m.tensor([1, 5]), min=m.tensor([2.0, 2.0])),
        lambda m: m.clamp(m.tensor([1, 5]), 0, 3),
        lambda m: m.addcmul(m.tensor([1.0, 2.0]), m.tensor([1, 2]), m.tensor([3, 4]), value=2),
        lambda m: m.lerp(m.tensor([1.0, 2.0], dtype=m.float64), m.tensor([3.0, 4.0], dtype=m.float64), 0.25),
    ]
    for i, case in enumerate(cases):
        got, want = case(nf), case(torch)
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], f"case {i}"
        np.testing.assert_allclose(got.numpy(), want.numpy(), err_msg=f"case {i}")


@pytest.mark.parametrize("op", ["add", "mul", "sub", "div", "maximum", "pow", "atan2", "remainder", "eq",
                                "logical_and", "bitwise_and"])
def test_shapes_that_dont_broadcast_name_the_op_and_both_shapes(op):
    a, b = (nf.ones(2, 3), nf.ones(4)) if op != "bitwise_and" else (nf.ones(2, 3, dtype=nf.int64),
                                                                    nf.ones(4, dtype=nf.int64))
    with pytest.raises(RuntimeError, match=rf"{op}: the shapes \[2, 3\] and \[4\] can't be broadcast"):
        getattr(nf, op)(a, b)
