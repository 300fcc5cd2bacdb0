"""Every in-place ``Tensor.name_`` method on a non-leaf tensor, against PyTorch and gradcheck.

The tensor changed in place is ``y = x * 1`` with ``x`` a float64 leaf: the op's backward must reach
``x`` through ``y``'s old history even when it needs ``y``'s old values (``sin_`` needs the input,
PyTorch keeps a copy). A table names the arguments of each method; a test checks that the table
covers every in-place method Tensor has, so a new one can't go untested.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import check, torch_or_skip

SHAPE = (3, 4)
_rng = np.random.default_rng(7)


def _uniform(lo: float, hi: float, shape=SHAPE) -> np.ndarray:
    return _rng.uniform(lo, hi, shape)


def _away_from_zero(shape=SHAPE) -> np.ndarray:
    """Values in ±[0.3, 2]: no kink (abs, relu, sign) within finite-difference reach."""
    return _uniform(0.3, 2.0, shape) * np.where(_rng.random(shape) < 0.5, -1.0, 1.0)


def _off_integers(shape=SHAPE) -> np.ndarray:
    """Values whose fractional part is in [0.1, 0.4] or [0.6, 0.9]: rounding is flat around them."""
    whole = _rng.integers(-3, 3, shape).astype(np.float64)
    frac = _uniform(0.1, 0.4, shape) + np.where(_rng.random(shape) < 0.5, 0.5, 0.0)
    return whole + frac


@dataclass
class Case:
    """How to call one in-place method: ``args(m, *others)`` gives its arguments (``m`` is nf or torch),
    ``x`` the values of the changed tensor, ``others`` more float64 inputs that get gradients too."""

    args: Callable = lambda m, *others: ()
    x: Callable = lambda: _away_from_zero()
    others: tuple = ()
    kwargs: Callable = lambda m, *others: {}
    gradcheck: bool = True
    #: PyTorch has no derivative for this in-place method: its out-of-place op is the oracle.
    torch_out_of_place: bool = False


def _index(m, values):
    return m.tensor(np.asarray(values, dtype=np.int64))


def _unit() -> np.ndarray:
    return _uniform(-0.9, 0.9)


def _positive() -> np.ndarray:
    return _uniform(0.5, 3.0)


def _tensor_arg(m, other):
    return (other,)


UNARY = {
    "abs_": Case(), "absolute_": Case(), "neg_": Case(), "relu_": Case(), "sign_": Case(),
    "acos_": Case(x=_unit), "arccos_": Case(x=_unit), "asin_": Case(x=_unit), "arcsin_": Case(x=_unit),
    "atanh_": Case(x=_unit, torch_out_of_place=True), "arctanh_": Case(x=_unit, torch_out_of_place=True),
    "acosh_": Case(x=lambda: _uniform(1.2, 3.0), torch_out_of_place=True),
    "arccosh_": Case(x=lambda: _uniform(1.2, 3.0), torch_out_of_place=True),
    "asinh_": Case(torch_out_of_place=True), "arcsinh_": Case(torch_out_of_place=True),
    "atan_": Case(), "arctan_": Case(),
    "cos_": Case(), "cosh_": Case(), "sin_": Case(), "sinh_": Case(), "tan_": Case(x=_unit), "tanh_": Case(),
    "erf_": Case(), "erfc_": Case(), "exp_": Case(), "exp2_": Case(), "expm1_": Case(),
    "log_": Case(x=_positive), "log2_": Case(x=_positive), "log10_": Case(x=_positive),
    "log1p_": Case(x=lambda: _uniform(-0.5, 2.0)),
    "sqrt_": Case(x=_positive), "rsqrt_": Case(x=_positive), "reciprocal_": Case(), "square_": Case(),
    "sigmoid_": Case(), "nan_to_num_": Case(),
    "ceil_": Case(x=_off_integers), "floor_": Case(x=_off_integers), "fix_": Case(x=_off_integers),
    "round_": Case(x=_off_integers), "trunc_": Case(x=_off_integers), "frac_": Case(x=_off_integers),
}

BINARY = {
    "add_": Case(_tensor_arg, others=(_away_from_zero,), kwargs=lambda m, o: {"alpha": 2.0}),
    "sub_": Case(_tensor_arg, others=(_away_from_zero,)),
    "subtract_": Case(lambda m: (1.5,)),
    "mul_": Case(_tensor_arg, others=(_away_from_zero,)),
    "multiply_": Case(lambda m: (-1.5,)),
    "div_": Case(_tensor_arg, others=(_away_from_zero,)),
    "divide_": Case(lambda m: (2.5,)),
    "true_divide_": Case(_tensor_arg, others=(_away_from_zero,)),
    "pow_": Case(_tensor_arg, x=_positive, others=(lambda: _uniform(-2, 2),)),
    "atan2_": Case(_tensor_arg, others=(_away_from_zero,)),
    "arctan2_": Case(_tensor_arg, others=(_away_from_zero,)),
    "copysign_": Case(_tensor_arg, others=(_away_from_zero,)),
    "hypot_": Case(_tensor_arg, others=(_away_from_zero,)),
    "xlogy_": Case(_tensor_arg, others=(_positive,)),
    "fmod_": Case(lambda m: (0.7,), x=lambda: _uniform(0.05, 0.65)),
    "remainder_": Case(lambda m: (0.7,), x=lambda: _uniform(0.05, 0.65)),
    "lerp_": Case(lambda m, end, w: (end, w), others=(_away_from_zero, lambda: _uniform(0, 1))),
    "addcmul_": Case(lambda m, a, b: (a, b), others=(_away_from_zero, _away_from_zero),
                     kwargs=lambda m, a, b: {"value": 0.5}),
    "addcdiv_": Case(lambda m, a, b: (a, b), others=(_away_from_zero, _away_from_zero),
                     kwargs=lambda m, a, b: {"value": 0.5}),
    "clamp_": Case(lambda m: (-0.8, 0.8)),
    "clip_": Case(_tensor_arg, others=(lambda: _uniform(-3, -2.5),)),  # min as a tensor
    "clamp_min_": Case(lambda m: (0.1,)),
    "clamp_max_": Case(lambda m: (0.1,)),
    "cumsum_": Case(lambda m: (1,)),
    "cumprod_": Case(lambda m: (1,)),
}

#: Comparisons and logical ops keep the float dtype in place; their results are piecewise constant.
COMPARISONS = ("eq_", "ne_", "lt_", "le_", "gt_", "ge_", "logical_and_", "logical_or_", "logical_xor_")

_ROWS = [2, 0]
INDEXED = {
    "index_add_": Case(lambda m, s: (0, _index(m, _ROWS), s), others=(lambda: _uniform(-1, 1, (2, 4)),)),
    "index_copy_": Case(lambda m, s: (0, _index(m, _ROWS), s), others=(lambda: _uniform(-1, 1, (2, 4)),)),
    "index_fill_": Case(lambda m: (0, _index(m, _ROWS), 1.5)),
    "index_put_": Case(lambda m, v: ((_index(m, _ROWS),), v), others=(lambda: _uniform(-1, 1, (2, 4)),),
                       kwargs=lambda m, v: {"accumulate": True}),
    "index_reduce_": Case(lambda m, s: (0, _index(m, _ROWS), s, "prod"),
                          others=(lambda: _uniform(0.5, 1.5, (2, 4)),)),
    "masked_fill_": Case(lambda m: (m.tensor(np.arange(12).reshape(SHAPE) % 3 == 0), 2.0)),
    "scatter_": Case(lambda m, s: (1, _index(m, [[0, 2], [1, 3], [3, 0]]), s),
                     others=(lambda: _uniform(-1, 1, (3, 2)),)),
    "scatter_add_": Case(lambda m, s: (1, _index(m, [[0, 2], [1, 1], [3, 0]]), s),
                         others=(lambda: _uniform(-1, 1, (3, 2)),)),
    "scatter_reduce_": Case(lambda m, s: (1, _index(m, [[0, 2], [1, 1], [3, 0]]), s, "prod"),
                            others=(lambda: _uniform(0.5, 1.5, (3, 2)),)),
    "copy_": Case(_tensor_arg, others=(lambda: _uniform(-1, 1, (4,)),)),
    "fill_": Case(lambda m: (2.0,)),
    "zero_": Case(),
    "squeeze_": Case(lambda m: (0,), x=lambda: _away_from_zero((1, 3, 4))),
    "unsqueeze_": Case(lambda m: (1,)),
    "t_": Case(),
    "transpose_": Case(lambda m: (0, 1)),
}

CASES = {**UNARY, **BINARY, **INDEXED}
#: Methods checked by their own tests below (random fills, integer-only, no gradient in PyTorch).
SEPARATE = {"normal_", "uniform_", "bitwise_and_", "bitwise_or_", "bitwise_xor_", "bitwise_not_",
            "floor_divide_", "sgn_", "logical_not_", *COMPARISONS}
NOT_OPS = {"requires_grad_", "detach_"}


def test_every_inplace_method_of_tensor_is_in_the_table():
    methods = {n for n in dir(nf.Tensor) if n.endswith("_") and not n.startswith("_")}
    assert methods - NOT_OPS - SEPARATE == set(CASES), "add the new in-place methods to the table"


def _on_non_leaf(name: str, case: Case):
    def fn(m, x, *others):
        y = x * 1
        args, kwargs = case.args(m, *others), case.kwargs(m, *others)
        if m is not nf and case.torch_out_of_place:
            return getattr(y, name[:-1])(*args, **kwargs)
        result = getattr(y, name)(*args, **kwargs)
        assert result is y, f"{name} must return the tensor it changed"
        return y

    return fn


@pytest.mark.filterwarnings("ignore:index_reduce")
@pytest.mark.parametrize("name", sorted(CASES))
def test_inplace_method_on_non_leaf_matches_torch(name):
    case = CASES[name]
    arrays = [case.x()] + [make() for make in case.others]
    check(_on_non_leaf(name, case), *arrays, gradcheck=case.gradcheck)


#: PyTorch's in-place logical ops are not recorded by autograd at all (so it lets them change a leaf).
TORCH_RECORDS_NOTHING = {"logical_and_", "logical_or_", "logical_xor_", "logical_not_"}
LEAF_ERROR = "a leaf Variable that requires grad is being used in an in-place operation."


@pytest.mark.filterwarnings("ignore:index_reduce")
@pytest.mark.parametrize("name", sorted(CASES) + ["normal_", "uniform_", "sgn_", *COMPARISONS])
def test_inplace_method_on_leaf_requiring_grad_is_refused_and_allowed_under_no_grad(name):
    torch = torch_or_skip()
    case = CASES.get(name, Case(_tensor_arg, others=(_away_from_zero,)) if name in COMPARISONS else Case())
    arrays = [case.x()] + [make() for make in case.others]
    results = []
    for m in (nf, torch):
        x, *others = (m.tensor(a) for a in arrays)
        x.requires_grad_(True)
        args, kwargs = case.args(m, *others), case.kwargs(m, *others)
        if m is nf or name not in TORCH_RECORDS_NOTHING:
            with pytest.raises(RuntimeError, match=re.escape(LEAF_ERROR)):
                getattr(x, name)(*args, **kwargs)
        with m.no_grad():
            assert getattr(x, name)(*args, **kwargs) is x
        assert x.requires_grad and x.grad_fn is None
        results.append(x.detach().numpy())
    if name not in ("normal_", "uniform_"):
        np.testing.assert_allclose(results[0], results[1], rtol=1e-12)
    assert results[0].shape == results[1].shape


def _zero_gradient_through(name: str, values: np.ndarray, *args):
    """``name_`` on a non-leaf: it still requires grad (as in PyTorch) and passes zero back to its history."""
    x = nf.tensor(values, requires_grad=True)
    y = x * 1
    assert getattr(y, name)(*args) is y
    assert y.requires_grad
    (y * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(values.shape))
    return y.detach().numpy()


@pytest.mark.parametrize("name", ["normal_", "uniform_"])
def test_random_fill_of_non_leaf_gives_its_history_zero_gradient(name):
    got = _zero_gradient_through(name, _away_from_zero())
    assert np.unique(got).size == got.size


def test_sgn_inplace_matches_torch_with_zero_gradient():
    """(PyTorch's gradient here is a ZeroTensor, which can't be read as an array.)"""
    torch = torch_or_skip()
    a = _away_from_zero()
    np.testing.assert_array_equal(_zero_gradient_through("sgn_", a), torch.tensor(a).sgn_().numpy())


@pytest.mark.parametrize("name", [*COMPARISONS, "logical_not_"])
def test_comparison_inplace_matches_torch_with_zero_gradient(name):
    """PyTorch's comparisons give zero gradient too; its in-place logical ops record nothing and pass
    the old history's gradient through unchanged (a wrong gradient we don't copy)."""
    torch = torch_or_skip()
    a, b = _away_from_zero(), _away_from_zero()
    b[0] = a[0]  # some equal elements
    args = () if name == "logical_not_" else (b,)
    got = _zero_gradient_through(name, a, *(nf.tensor(v) for v in args))
    want = getattr(torch.tensor(a), name)(*(torch.tensor(v) for v in args))
    assert want.dtype == torch.float64
    np.testing.assert_array_equal(got, want.numpy())


@pytest.mark.parametrize("name", ["bitwise_and_", "bitwise_or_", "bitwise_xor_"])
def test_bitwise_inplace_matches_torch(name):
    torch = torch_or_skip()
    a, b = np.array([[5, 3, 12], [0, 7, 9]]), np.array([[6, 1, 10], [4, 7, 2]])
    got = getattr(nf.tensor(a), name)(nf.tensor(b))
    want = getattr(torch.tensor(a), name)(torch.tensor(b))
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_bitwise_not_inplace_matches_torch():
    torch = torch_or_skip()
    a = np.array([5, -3, 0])
    np.testing.assert_array_equal(nf.tensor(a).bitwise_not_().numpy(), torch.tensor(a).bitwise_not_().numpy())


def test_floor_divide_inplace_matches_torch_forward():
    torch = torch_or_skip()
    a = _off_integers() * 3
    got = nf.tensor(a).floor_divide_(2.0)
    want = torch.tensor(a).floor_divide_(2.0)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
