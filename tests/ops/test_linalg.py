"""Matrix products and einsum against PyTorch (values and gradients) and gradcheck; errors."""

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import check, check_forward

rng = np.random.default_rng(2)


def r(*shape):
    return rng.standard_normal(shape)


# --------------------------------------------------------------------------- matmul: every shape case
@pytest.mark.parametrize("sa, sb", [
    ((3,), (3,)),  # 1D . 1D: dot product, a 0-d result
    ((2, 3), (3,)),  # matrix . vector
    ((3,), (3, 4)),  # vector . matrix
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3,)),  # batched . vector
    ((3,), (5, 3, 4)),  # vector . batched
    ((5, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (3, 4)),  # batch against a single matrix
    ((2, 3), (5, 3, 4)),
    ((2, 1, 2, 3), (5, 3, 4)),  # broadcast batches
    ((1, 5, 2, 3), (6, 1, 3, 4)),
])
def test_matmul_matches_torch_for_every_shape_case(sa, sb):
    check(lambda m, a, b: m.matmul(a, b), r(*sa), r(*sb))
    check(lambda m, a, b: a @ b, r(*sa), r(*sb))


def test_matmul_of_integers():
    check_forward(lambda m, a, b: a @ b, np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4))


def test_matmul_double_backward():
    a, b = nf.tensor(r(2, 3), requires_grad=True), nf.tensor(r(3, 4), requires_grad=True)
    assert nf.autograd.gradgradcheck(lambda x, y: (x @ y) ** 2, [a, b])


@pytest.mark.parametrize("fn, shapes", [
    (lambda m, a, b: m.mm(a, b), [(2, 3), (3, 4)]),
    (lambda m, a, b: a.mm(b), [(2, 3), (3, 4)]),
    (lambda m, a, b: m.bmm(a, b), [(4, 2, 3), (4, 3, 5)]),
    (lambda m, a, b: a.mv(b), [(2, 3), (3,)]),
    (lambda m, a, b: m.dot(a, b), [(4,), (4,)]),
    (lambda m, a, b: a.vdot(b), [(4,), (4,)]),
    (lambda m, a, b: m.inner(a, b), [(2, 4), (3, 4)]),
    (lambda m, a, b: m.outer(a, b), [(3,), (4,)]),
    (lambda m, a, b: a.ger(b), [(3,), (4,)]),
    (lambda m, a, b: m.tensordot(a, b, dims=1), [(2, 3), (3, 4)]),
    (lambda m, a, b: m.tensordot(a, b, dims=([0, 2], [2, 1])), [(2, 3, 4), (5, 4, 2)]),
    (lambda m, a, b: m.tensordot(a, b), [(2, 3, 4), (3, 4, 5)]),
])
def test_matrix_products_match_torch(fn, shapes):
    check(fn, *(r(*s) for s in shapes))


@pytest.mark.parametrize("fn, shapes", [
    (lambda m, c, a, b: m.addmm(c, a, b), [(2, 4), (2, 3), (3, 4)]),
    (lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2), [(4,), (2, 3), (3, 4)]),
    (lambda m, c, a, b: m.addmv(c, a, b, alpha=3), [(2,), (2, 3), (3,)]),
    (lambda m, c, a, b: m.baddbmm(c, a, b, beta=2), [(5, 2, 4), (5, 2, 3), (5, 3, 4)]),
    (lambda m, c, a, b: c.addbmm(a, b), [(2, 4), (5, 2, 3), (5, 3, 4)]),
])
def test_fused_add_products_match_torch(fn, shapes):
    check(fn, *(r(*s) for s in shapes))


def test_addmm_with_beta_zero_ignores_the_input_even_nan():
    check(lambda m, a, b: m.addmm(m.full((2, 4), float("nan"), dtype=a.dtype), a, b, beta=0),
          r(2, 3), r(3, 4))


@pytest.mark.parametrize("fn", [lambda m, a: a.T, lambda m, a: a.mT, lambda m, a: a.t()])
def test_transposes_match_torch(fn):
    check(fn, r(3, 4))


def test_T_reverses_all_dimensions_and_mT_swaps_the_last_two():
    x = nf.zeros(2, 3, 4)
    assert x.mT.shape == (2, 4, 3)
    check(lambda m, a: a.mT, r(2, 3, 4))
    check(lambda m, a: a.permute(*range(a.ndim - 1, -1, -1)) if m is not nf else a.T, r(2, 3, 4))


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("sa, sb, match", [
    ((2, 3), (4, 5), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
    ((3,), (4,), r"inconsistent tensor size, expected tensor \[3\] and src \[4\]"),
    ((5, 2, 3), (5, 4, 2), r"matmul: shapes \[5, 2, 3\] and \[5, 4, 2\] don't match"),
    ((5, 2, 3), (4, 3, 2), r"batch dimensions of shapes \[5, 2, 3\] and \[4, 3, 2\] can't be broadcast"),
    ((), (3,), "both arguments to matmul need to be at least 1D"),
])
def test_matmul_shape_errors(sa, sb, match):
    with pytest.raises(RuntimeError, match=match):
        nf.zeros(*sa) @ nf.zeros(*sb)


@pytest.mark.parametrize("call, match", [
    (lambda: nf.mm(nf.zeros(2, 3), nf.zeros(4, 5)), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and"),
    (lambda: nf.mm(nf.zeros(2, 3, 1), nf.zeros(4, 5)), "mm: expected 2D tensors"),
    (lambda: nf.bmm(nf.zeros(2, 3), nf.zeros(4, 5)), "bmm: expected 3D tensors"),
    (lambda: nf.bmm(nf.zeros(2, 1, 3), nf.zeros(4, 3, 5)), "bmm: batch sizes differ"),
    (lambda: nf.dot(nf.zeros(2, 3), nf.zeros(3)), "1D tensors expected, but got 2D and 1D tensors"),
    (lambda: nf.mv(nf.zeros(3), nf.zeros(3)), "mv: Expected 2-D argument input, but got 1-D"),
    (lambda: nf.outer(nf.zeros(3, 1), nf.zeros(3)), "outer: Expected 1-D argument self, but got 2-D"),
    (lambda: nf.tensordot(nf.zeros(3), nf.zeros(3), ([0], [0, 0])), "same length"),
])
def test_product_errors(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()


# --------------------------------------------------------------------------- einsum
@pytest.mark.parametrize("equation, shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output: letters that appear once, sorted
    ("ba,cb", [(3, 2), (4, 3)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ii->i", [(3, 3)]),  # a diagonal
    ("ii", [(3, 3)]),  # a trace
    ("iij->ji", [(3, 3, 2)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ik,jk->", [(2, 3), (4, 3)]),
    ("...ij->...ji", [(2, 5, 3, 4)]),
    ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),  # ellipses of different lengths broadcast
    ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),
    ("...i,...i", [(2, 3), (1, 3)]),  # implicit output keeps the ellipsis dimensions first
    ("ij,jk->ik", [(2, 1), (3, 4)]),  # a size-1 subscript broadcasts
    ("Ab,bC->AC", [(2, 3), (3, 2)]),
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),
])
def test_einsum_matches_torch(equation, shapes):
    check(lambda m, *xs: m.einsum(equation, *xs), *(r(*s) for s in shapes))


def test_einsum_takes_operands_as_a_list():
    check(lambda m, a, b: m.einsum("ij,jk->ik", [a, b]), r(2, 3), r(3, 4))


def test_einsum_double_backward():
    a, b = nf.tensor(r(2, 3), requires_grad=True), nf.tensor(r(3, 3), requires_grad=True)
    assert nf.autograd.gradgradcheck(lambda x, y: nf.einsum("ij,jj->ij", x, y), [a, b])


def test_einsum_only_differentiates_what_needs_it():
    a, b = nf.tensor(r(2, 3), requires_grad=True), nf.tensor(r(3, 4))
    nf.einsum("ij,jk->ik", a, b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.tile(b.numpy().sum(1), (2, 1)))


def test_einsum_promotes_dtypes_and_gives_gradients_in_each_dtype():
    a = nf.ones(2, 3, dtype=nf.float32, requires_grad=True)
    b = nf.ones(3, dtype=nf.float64, requires_grad=True)
    out = nf.einsum("ij,j->i", a, b)
    assert out.dtype == nf.float64
    out.sum().backward()
    assert a.grad.dtype == nf.float32 and b.grad.dtype == nf.float64


@pytest.mark.parametrize("equation, shapes, match", [
    ("ij,jk->ik", [(2, 3)], "fewer operands were provided"),
    ("ij->ik", [(2, 3)], "output subscript k does not appear in the equation"),
    ("ij->ii", [(2, 3)], "output subscript i appears more than once"),
    ("ijk->i", [(2, 3)], r"subscripts in the equation \(3\) does not match the number of dimensions \(2\)"),
    ("ij,jk->ik", [(2, 3), (4, 5)], "subscript j has size 4 for operand 1 which does not broadcast"),
    ("i1->i", [(2, 3)], "invalid subscript given at index 1"),
    ("i.j->i", [(2, 3)], "not part of any ellipsis"),
])
def test_einsum_errors(equation, shapes, match):
    with pytest.raises(RuntimeError, match=match):
        nf.einsum(equation, *(nf.zeros(*s) for s in shapes))
