"""Element-wise ops against PyTorch (values, gradients) and finite differences (gradcheck)."""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import check, check_forward, torch_or_skip

rng = np.random.default_rng(0)
ANY = rng.standard_normal((2, 3))
POSITIVE = rng.uniform(0.5, 2.0, (2, 3))
UNIT = rng.uniform(-0.9, 0.9, (2, 3))
ABOVE_ONE = rng.uniform(1.5, 3.0, (2, 3))

UNARY = {
    "exp": ANY, "exp2": ANY, "expm1": ANY, "log": POSITIVE, "log1p": POSITIVE, "log2": POSITIVE,
    "log10": POSITIVE, "sqrt": POSITIVE, "rsqrt": POSITIVE, "reciprocal": POSITIVE, "erf": ANY, "erfc": ANY,
    "sin": ANY, "cos": ANY, "tan": UNIT, "asin": UNIT, "acos": UNIT, "atan": ANY, "sinh": ANY, "cosh": ANY,
    "tanh": ANY, "asinh": ANY, "acosh": ABOVE_ONE, "atanh": UNIT, "sigmoid": ANY, "relu": ANY, "abs": ANY,
    "square": ANY, "neg": ANY, "frac": ANY * 3, "arcsin": UNIT, "arccos": UNIT, "arctan": ANY,
    "arcsinh": ANY, "arccosh": ABOVE_ONE, "arctanh": UNIT, "absolute": ANY, "negative": ANY,
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_function_matches_torch(name):
    check(lambda m, x: getattr(m, name)(x), UNARY[name])


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_method_matches_torch(name):
    check(lambda m, x: getattr(x, name)(), UNARY[name], gradcheck=False)


FLOAT_VALUED = ["exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "reciprocal", "erf", "sin",
                "cos", "tan", "atan", "sinh", "cosh", "tanh", "asinh", "sigmoid", "exp2"]


@pytest.mark.parametrize("name", FLOAT_VALUED)
def test_float_function_of_integer_tensor_is_float32(name):
    torch = torch_or_skip()
    x = np.array([1, 2, 3])
    got, want = getattr(nf, name)(nf.tensor(x)), getattr(torch, name)(torch.tensor(x))
    assert got.dtype == nf.float32 and str(want.dtype) == "torch.float32"
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["abs", "square", "sign", "floor", "ceil", "round", "trunc", "neg"])
def test_integer_preserving_functions_match_torch(name):
    check_forward(lambda m, x: getattr(m, name)(x), np.array([-3, 0, 2, 7]))


def test_square_of_bool_is_int64_like_torch():
    check_forward(lambda m, x: m.square(x), np.array([True, False]))


def test_sign_of_bool_stays_bool():
    check_forward(lambda m, x: m.sign(x), np.array([True, False]))


BINARY = {
    "atan2": (ANY, POSITIVE[0]),
    "maximum": (ANY, ANY[0] * 0.5),
    "minimum": (ANY, ANY[0] * 0.5),
    "fmax": (ANY, ANY[:1] * 0.5),
    "fmin": (ANY, ANY[:1] * 0.5),
    "remainder": (ANY * 3, POSITIVE[0]),
    "fmod": (ANY * 3, -POSITIVE[0]),
    "copysign": (POSITIVE, ANY[0]),
    "pow": (POSITIVE, ANY[0]),
    "div": (ANY, POSITIVE[:, :1]),
    "mul": (ANY, ANY[0]),
    "add": (ANY[:, :1], ANY[0]),
    "sub": (ANY[0], ANY),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_op_broadcasts_and_matches_torch(name):
    check(lambda m, a, b: getattr(m, name)(a, b), *BINARY[name])


@pytest.mark.parametrize("name", ["remainder", "fmod", "pow", "copysign", "add", "mul", "div"])
def test_binary_op_with_python_scalar_matches_torch(name):
    check(lambda m, x: getattr(m, name)(x, 1.5), POSITIVE)
    check(lambda m, x: getattr(m, name)(x, -2), POSITIVE)


def test_python_remainder_and_c_fmod_on_negative_integers_match_torch():
    a, b = np.array([-7, -3, 3, 7]), np.array([2, -2, 2, -3])
    for name in ("remainder", "fmod", "floor_divide"):
        check_forward(lambda m, x, y, name=name: getattr(m, name)(x, y), a, b)
    check_forward(lambda m, x, y: x % y, a, b)
    check_forward(lambda m, x, y: x // y, a, b)


@pytest.mark.parametrize("name", ["remainder", "fmod", "floor_divide"])
def test_integer_division_by_zero_raises_like_torch(name):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        getattr(nf, name)(nf.tensor([1, 2]), nf.tensor([1, 0]))


def test_floor_divide_of_floats_matches_torch_and_has_no_derivative():
    check_forward(lambda m, a, b: m.floor_divide(a, b), ANY * 3, POSITIVE)
    x = nf.tensor(ANY, requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not implemented"):
        nf.floor_divide(x, 2.0).sum().backward()


# --------------------------------------------------------------------------- ternary ops
def test_lerp_with_scalar_and_tensor_weight_matches_torch():
    check(lambda m, a, b: m.lerp(a, b, 0.3), ANY, ANY[0])
    check(lambda m, a, b, w: m.lerp(a, b, w), ANY, ANY[0], UNIT * 0.5 + 0.5)
    check(lambda m, a, b: a.lerp(b, 0.8), ANY, ANY)


def test_addcmul_and_addcdiv_match_torch():
    check(lambda m, x, a, b: m.addcmul(x, a, b, value=0.5), ANY, ANY[0], POSITIVE)
    check(lambda m, x, a, b: m.addcdiv(x, a, b, value=-2), ANY, ANY[0], POSITIVE)
    check(lambda m, x, a, b: x.addcdiv(a, b), ANY, ANY, POSITIVE)


def test_addcdiv_of_integer_tensors_is_refused_like_torch():
    with pytest.raises(RuntimeError, match="Integer division with addcdiv"):
        nf.addcdiv(nf.tensor([1.0]), nf.tensor([1]), nf.tensor([2]))


def test_ternary_op_names_op_and_shapes_when_they_dont_broadcast():
    with pytest.raises(RuntimeError, match=r"addcmul: the shapes \[2\] and \[3\] and \[4\]"):
        nf.addcmul(nf.ones(2), nf.ones(3), nf.ones(4))


# --------------------------------------------------------------------------- kinks follow PyTorch
def test_abs_gradient_at_zero_is_zero():
    check(lambda m, x: m.abs(x), np.array([0.0, 1.5, -2.0]), gradcheck=False)


def test_clamp_passes_gradient_at_the_bounds():
    check(lambda m, x: m.clamp(x, -1.0, 1.0), np.array([-2.0, -1.0, 0.0, 1.0, 2.0]), gradcheck=False)


def test_maximum_and_minimum_split_gradient_at_ties():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    check(lambda m, x, y: m.maximum(x, y), a, b, gradcheck=False)
    check(lambda m, x, y: m.minimum(x, y), a, b, gradcheck=False)


def test_maximum_propagates_nan_like_torch():
    check_forward(lambda m, x, y: m.maximum(x, y), np.array([np.nan, 1.0]), np.array([0.0, np.nan]))
    check_forward(lambda m, x, y: m.fmax(x, y), np.array([np.nan, 1.0]), np.array([0.0, np.nan]))


def test_rounding_ops_have_zero_gradient_and_match_torch():
    x = np.array([-2.5, -1.5, -0.4, 0.5, 1.5, 2.7])
    for name in ("floor", "ceil", "round", "trunc", "sign", "fix"):
        check(lambda m, t, name=name: getattr(m, name)(t), x, gradcheck=False)


@pytest.mark.parametrize("decimals", [-1, 1, 2])
def test_round_with_decimals_matches_torch(decimals):
    x = np.array([123.456, -0.125, 15.0, 0.0449])
    check(lambda m, t: m.round(t, decimals=decimals), x, gradcheck=False)


def test_frac_of_integers_is_refused():
    with pytest.raises(RuntimeError, match="frac"):
        nf.frac(nf.tensor([1, 2]))


# --------------------------------------------------------------------------- clamp
def test_clamp_with_numbers_matches_torch_in_all_spellings():
    check(lambda m, x: m.clamp(x, min=-0.5), ANY)
    check(lambda m, x: m.clamp(x, max=0.5), ANY)
    check(lambda m, x: m.clip(x, -0.5, 0.5), ANY)
    check(lambda m, x: x.clamp_min(0.1), ANY)
    check(lambda m, x: x.clamp_max(0.1), ANY)


def test_clamp_with_tensor_bounds_gives_bounds_their_gradient():
    low, high = ANY[0] * 0.3 - 0.5, ANY[1] * 0.3 + 0.5
    check(lambda m, x, lo, hi: m.clamp(x, lo, hi), ANY, low, high)
    check(lambda m, x, lo: m.clamp(x, min=lo), ANY, low)


def test_clamp_of_integer_tensor_with_float_bound_promotes_like_torch():
    check_forward(lambda m, x: m.clamp(x, 0.5, 2), np.array([0, 1, 3]))
    check_forward(lambda m, x: m.clamp(x, 0, 2), np.array([-1, 1, 3]))


def test_clamp_without_bounds_is_an_error():
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        nf.clamp(nf.ones(2))


# --------------------------------------------------------------------------- where
def test_where_matches_torch_with_tensors_and_scalars():
    cond = ANY > 0
    check(lambda m, c, a, b: m.where(c, a, b), cond, ANY, POSITIVE[0])
    check(lambda m, c, a: m.where(c, a, 0.0), cond, ANY)
    check(lambda m, c, a, b: a.where(c, b), cond, ANY, POSITIVE)


def test_where_with_condition_only_gives_indices_of_true_elements():
    got = nf.where(nf.tensor([[True, False], [False, True]]))
    assert [t.tolist() for t in got] == [[0, 1], [0, 1]]
    assert got[0].dtype == nf.int64


def test_where_refuses_a_non_bool_condition():
    with pytest.raises(RuntimeError, match="boolean tensor.*Float"):
        nf.where(nf.ones(2), nf.ones(2), nf.zeros(2))


def test_where_promotes_like_torch():
    check_forward(lambda m, c, a, b: m.where(c, a, b), np.array([True, False]), np.array([1, 2]),
                  np.array([0.5, 1.5], dtype=np.float32))


# --------------------------------------------------------------------------- tests and nan_to_num
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -1.5])


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "isposinf", "isneginf"])
def test_float_tests_match_torch(name):
    check_forward(lambda m, x: getattr(m, name)(x), SPECIAL)
    check_forward(lambda m, x: getattr(m, name)(x), np.array([1, 2]))


def test_nan_to_num_matches_torch_and_passes_gradient_only_at_finite_values():
    check(lambda m, x: m.nan_to_num(x), SPECIAL, gradcheck=False)
    check(lambda m, x: m.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-2.0), SPECIAL, gradcheck=False)


# --------------------------------------------------------------------------- logic and bits
LOGIC_A = np.array([0, 1, 2, 0])
LOGIC_B = np.array([0.0, 0.0, 1.5, -1.0])


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_ops_accept_any_dtype_and_give_bool(name):
    check_forward(lambda m, a, b: getattr(m, name)(a, b), LOGIC_A, LOGIC_B)


def test_logical_not_matches_torch():
    check_forward(lambda m, a: m.logical_not(a), LOGIC_B)


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor"])
def test_bitwise_ops_match_torch_on_ints_and_bools(name):
    check_forward(lambda m, a, b: getattr(m, name)(a, b), np.array([5, 3, -1]), np.array([3, 6, 7]))
    check_forward(lambda m, a, b: getattr(m, name)(a, b), np.array([True, False]), np.array([True, True]))


def test_bitwise_operators_dispatch_to_bitwise_ops():
    check_forward(lambda m, a, b: (a & b, a | b, a ^ b, ~a), np.array([5, 3, -1]), np.array([3, 6, 7]))
    check_forward(lambda m, a, b: (a & b, a | b, a ^ b, ~a), np.array([True, False]), np.array([True, True]))


def test_bitwise_op_on_float_tensor_is_refused():
    with pytest.raises(RuntimeError, match="not implemented for 'Float'"):
        nf.ones(2) & nf.ones(2)


def test_bool_negation_and_subtraction_are_refused_like_torch():
    mask = nf.tensor([True, False])
    with pytest.raises(RuntimeError, match="Negation.*logical_not"):
        -mask
    with pytest.raises(RuntimeError, match="Subtraction.*bool tensor is not supported"):
        mask - mask


# --------------------------------------------------------------------------- in place, higher order
@pytest.mark.parametrize("name, args", [
    ("abs_", ()), ("clamp_", (-0.5, 0.5)), ("sin_", ()), ("floor_", ()), ("lerp_", (ANY[0], 0.5)),
    ("remainder_", (0.7,)), ("atan_", ()), ("erf_", ()), ("nan_to_num_", ()),
    ("addcmul_", (ANY[0], POSITIVE)),
])
def test_in_place_variants_match_torch(name, args):
    torch = torch_or_skip()
    x, y = nf.tensor(ANY), torch.tensor(ANY)
    got = getattr(x, name)(*[nf.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
    want = getattr(y, name)(*[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
    assert got is x
    np.testing.assert_allclose(x.numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("fn", [
    lambda x: nf.sin(x) * nf.atan(x), lambda x: nf.erf(x).sum(), lambda x: nf.rsqrt(x * x + 1),
    lambda x: nf.atan2(x, x * x + 1), lambda x: nf.clamp(x * x, 0.1, 0.9),
    lambda x: nf.lerp(x, x * x, x.sigmoid()), lambda x: nf.addcdiv(x, x, x * x + 1),
], ids=["sin*atan", "erf", "rsqrt", "atan2", "clamp", "lerp", "addcdiv"])
def test_second_derivatives_match_finite_differences(fn):
    x = nf.tensor(ANY, requires_grad=True)
    assert nf.autograd.gradgradcheck(fn, (x,))
