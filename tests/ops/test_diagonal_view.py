"""``Tensor.diagonal`` is a view, as PyTorch's: it shares its base's memory and version counter, so writing
into it writes the base, and the base's gradient comes through what was written (``diag`` stays a copy)."""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import check, torch_or_skip

RNG = np.random.default_rng(7)
SQUARE = RNG.standard_normal((3, 3))
WIDE = RNG.standard_normal((3, 4))
BATCH = RNG.standard_normal((2, 3, 4))

# (shape of the input, offset, dim1, dim2): every sign of offset, dims in either order, negative dims
GEOMETRIES = [
    (SQUARE, 0, 0, 1), (WIDE, 1, 0, 1), (WIDE, -1, 0, 1), (WIDE, 2, 1, 0), (WIDE, 5, 0, 1),
    (BATCH, 0, 1, 2), (BATCH, 1, -1, -2), (BATCH, -1, 0, -1), (BATCH, 0, 2, 0),
]
IDS = [f"{a.shape}-offset{o}-dims{d1},{d2}" for a, o, d1, d2 in GEOMETRIES]


@pytest.mark.parametrize("array, offset, dim1, dim2", GEOMETRIES, ids=IDS)
def test_diagonal_matches_torch_values_and_gradients(array, offset, dim1, dim2):
    check(lambda m, x: m.diagonal(x * 1, offset, dim1, dim2) * 2, array)


def _write(m, y, how, h):
    """Change ``y``'s view ``y.diagonal(...)`` in place (``h`` has the view's shape)."""
    if how == "fill_":
        y.fill_(0.5)
    elif how == "zero_":
        y.zero_()
    elif how == "add_":
        y.add_(h)
    elif how == "mul_":
        y.mul_(h)
    elif how == "copy_":
        y.copy_(h * 3)
    elif how == "setitem":
        y[0] = h[0]


WRITES = ["fill_", "zero_", "add_", "mul_", "copy_", "setitem"]


@pytest.mark.parametrize("how", WRITES)
@pytest.mark.parametrize(
    "array, offset, dim1, dim2", GEOMETRIES[:2] + GEOMETRIES[5:7], ids=IDS[:2] + IDS[5:7]
)
def test_writing_into_the_diagonal_of_a_non_leaf_gives_torch_values_and_gradients(
    array, offset, dim1, dim2, how
):
    length = np.diagonal(array, offset, dim1, dim2).shape
    h = RNG.standard_normal(length)

    def fn(m, x, h):
        y = x * 1
        _write(m, y.diagonal(offset, dim1, dim2), how, h)
        return y * (x + 2)  # the base used after the change, with its new history

    check(fn, array, h)


@pytest.mark.parametrize("how", WRITES)
def test_writing_into_the_diagonal_of_a_plain_tensor_changes_the_tensor_as_in_torch(how):
    torch = torch_or_skip()
    results = []
    for m in (nf, torch):
        x = m.tensor(SQUARE.copy())
        diagonal = x.diagonal()
        _write(m, diagonal, how, m.tensor([1.0, 2.0, 3.0], dtype=m.float64))
        results.append((x.numpy().copy(), _version(x), _version(diagonal)))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    assert results[0][1:] == results[1][1:]


def _version(tensor) -> int:
    version = tensor._version
    return version[0] if isinstance(version, list) else version  # (nbframe's counter is a list)


def test_diagonal_shares_its_base_memory_and_version_counter():
    x = nf.tensor(WIDE.copy())
    diagonal = x.diagonal(1)
    assert diagonal._base is x and diagonal._is_view()
    assert diagonal._version is x._version
    assert np.shares_memory(diagonal.array, x.array)


def test_diagonal_copied_into_inside_a_graph_carries_the_gradient_of_what_was_written():
    torch = torch_or_skip()
    grads = []
    for m in (nf, torch):
        h = m.tensor([1.0, -2.0, 0.5], dtype=m.float64, requires_grad=True)
        buf = m.zeros(3, 3, dtype=m.float64)
        buf.diagonal().copy_(h)
        (buf @ buf).sum().backward()
        grads.append(h.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_diag_of_a_matrix_is_a_copy_as_in_torch():
    torch = torch_or_skip()
    for m in (nf, torch):
        x = m.tensor(SQUARE.copy())
        diagonal = m.diag(x)
        diagonal.zero_()
        assert diagonal._base is None and not diagonal._is_view()
        np.testing.assert_array_equal(x.numpy(), SQUARE)


def test_writing_into_the_diagonal_of_a_leaf_that_requires_grad_is_refused_as_in_torch():
    torch = torch_or_skip()
    messages = []
    for m in (nf, torch):
        x = m.tensor(SQUARE, requires_grad=True)
        with pytest.raises(RuntimeError) as error:
            x.diagonal().zero_()
        messages.append(str(error.value))
    assert messages[0].startswith(messages[1].split("Traceback")[0].strip()), messages


def test_writing_into_the_diagonal_of_a_leaf_under_no_grad_changes_the_leaf():
    x = nf.tensor(SQUARE.copy(), requires_grad=True)
    with nf.no_grad():
        x.diagonal().fill_(0)
    np.testing.assert_array_equal(np.diagonal(x.detach().numpy()), [0.0, 0.0, 0.0])


def test_a_saved_base_changed_through_its_diagonal_raises_the_version_error_as_in_torch():
    torch = torch_or_skip()
    for m in (nf, torch):
        y = m.tensor(SQUARE, requires_grad=True) * 1
        z = y * y
        y.diagonal().add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


@pytest.mark.parametrize("how", WRITES)
def test_diagonal_of_an_expanded_tensor_is_refused_in_place_with_a_clear_error(how):
    # (PyTorch writes the one row the expanded rows share; nbframe's expanded views are read-only arrays)
    x = nf.tensor([1.0, 2.0, 3.0], dtype=nf.float64).expand(3, 3)
    with pytest.raises(RuntimeError, match="read-only \\(expanded\\) view; clone\\(\\) it first"):
        _write(nf, x.diagonal(), how, nf.tensor([1.0, 2.0, 3.0], dtype=nf.float64))


def test_diagonal_taken_before_its_base_changed_follows_it():
    torch = torch_or_skip()
    grads = []
    for m in (nf, torch):
        h = m.tensor([1.0, -2.0, 0.5], dtype=m.float64, requires_grad=True)
        buf = m.zeros(3, 3, dtype=m.float64)
        diagonal = buf.diagonal()
        buf[:, 2].copy_(h)
        (diagonal * m.tensor([1.0, 2.0, 3.0], dtype=m.float64)).sum().backward()
        grads.append(h.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)
