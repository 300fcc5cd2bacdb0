"""Views made outside a graph (their base needs no gradient) changed in place by an op that records.

PyTorch gives the base the history (a CopySlices node), so a buffer filled through its views carries
the gradient of what was written into it; before, nbframe gave it to the view alone and the base's
users silently got no gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import raises_like_torch, torch_or_skip

H = [0.5, -1.0, 2.0]
W = np.arange(6.0).reshape(2, 3) + 1


# Each case writes ``h`` (which requires grad) into a fresh buffer through a view; the loss uses the buffer.
def _copy_into_row(m, buf, h):
    buf[0].copy_(h * 2)


def _multiply_a_column(m, buf, h):
    buf[:, 1].mul_(h[:2])


def _add_through_a_view_of_a_view(m, buf, h):
    buf.view(6)[:3].add_(h)


def _copy_into_a_transposed_row(m, buf, h):
    buf.t()[0].copy_(h[:2])


def _narrow_select_and_unsqueeze(m, buf, h):
    buf.narrow(1, 1, 2).sub_(h[1:])
    buf.select(0, 1).mul_(h)
    buf.unsqueeze(0)[0, 0, 2].add_(h[0] ** 2)


def _reshape_then_step(m, buf, h):
    buf.reshape(-1)[::2].div_(h + 3)


def _assign_into_a_row(m, buf, h):
    buf[0][1] = h[0]
    buf[1][h.detach() > 0] = h[h.detach() > 0] * 3


def _view_changed_twice_and_used_after(m, buf, h):
    row = buf[1]
    row.copy_(h)
    row.mul_(h)
    buf[0].copy_(row + h)  # (row * h would save row, which this changes: the version error)


CASES = {fn.__name__[1:]: fn for fn in (
    _copy_into_row, _multiply_a_column, _add_through_a_view_of_a_view, _copy_into_a_transposed_row,
    _narrow_select_and_unsqueeze, _reshape_then_step, _assign_into_a_row, _view_changed_twice_and_used_after,
)}


def _filled(m, h, case):
    buf = m.tensor(np.arange(6.0).reshape(2, 3) - 2, dtype=h.dtype)
    CASES[case](m, buf, h)
    return buf


def _value_and_grad(m, case):
    h = m.tensor(H, dtype=m.float64, requires_grad=True)
    buf = _filled(m, h, case)
    (buf * m.tensor(W)).sum().backward()
    return buf.detach().numpy(), None if h.grad is None else h.grad.numpy()


@pytest.mark.parametrize("case", sorted(CASES))
def test_view_of_a_buffer_changed_in_place_gives_the_buffer_torch_values_and_gradients(case):
    torch = torch_or_skip()
    (got, got_grad), (want, want_grad) = (_value_and_grad(m, case) for m in (nf, torch))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got_grad is not None, "h got no gradient: the buffer kept no history"
    np.testing.assert_allclose(got_grad, want_grad, rtol=1e-12)


@pytest.mark.parametrize("case", sorted(CASES))
def test_view_of_a_buffer_changed_in_place_passes_gradcheck(case):
    h = nf.tensor(H, dtype=nf.float64, requires_grad=True)
    assert nf.autograd.gradcheck(lambda h: _filled(nf, h, case) * nf.tensor(W), [h])


def test_buffer_history_is_copy_slices_and_the_view_reads_it_back():
    h = nf.tensor(H, requires_grad=True)
    buf = nf.zeros(2, 3)
    row = buf[0]
    row.copy_(h * 2)
    assert buf.requires_grad and buf.grad_fn.name() == "CopySlicesBackward0"
    assert row.requires_grad and row.grad_fn.name() == "AsStridedBackward0"
    assert row._version is buf._version and buf._version[0] == 1


def test_view_of_an_integer_buffer_takes_values_without_a_history():
    torch = torch_or_skip()
    for m in (nf, torch):
        h = m.tensor(H, requires_grad=True)
        buf = m.zeros(2, 3, dtype=m.int64)
        buf[0].copy_(h)
        assert not buf.requires_grad and buf[0].tolist() == [0, -1, 2]


def test_view_changed_under_no_grad_needs_no_history():
    h = nf.tensor(H, requires_grad=True)
    buf = nf.zeros(2, 3)
    with nf.no_grad():
        buf[0].copy_(h)
        buf[:, 2].mul_(h[:2])
    assert not buf.requires_grad
    np.testing.assert_allclose(buf.numpy(), [[0.5, -1.0, 1.0], [0.0, 0.0, 0.0]])


def test_view_made_under_no_grad_and_changed_by_an_op_that_records_is_refused_as_in_torch():
    def action(m):
        h = m.tensor(H, requires_grad=True)
        buf = m.zeros(2, 3)
        with m.no_grad():
            row = buf[0]
        row[1:].copy_(h[1:])  # a view of that view is one too

    raises_like_torch(action)


def test_view_made_under_no_grad_of_a_tensor_that_requires_grad_is_refused_as_in_torch():
    def action(m):
        y = m.tensor(H, requires_grad=True) * 1
        with m.no_grad():
            view = y[0:2]
        view.mul_(2)

    raises_like_torch(action)


def test_one_of_several_views_made_outside_a_graph_is_refused_as_in_torch():
    def action(m):
        buf = m.zeros(2, 3)
        buf.unbind(0)[1].copy_(m.tensor(H, requires_grad=True))

    raises_like_torch(action)


def test_view_of_a_buffer_that_was_made_a_leaf_requiring_grad_is_refused_as_in_torch():
    def action(m):
        buf = m.zeros(2, 3)
        row = buf[0]
        buf.requires_grad_()
        row.copy_(m.tensor(H, requires_grad=True))

    raises_like_torch(action)


def test_views_made_and_dropped_leave_nothing_on_their_base():
    x = nf.zeros(100, 4)
    for i in range(100):
        x[i]
    assert "_views" not in x.__dict__
