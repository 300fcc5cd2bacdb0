"""A leaf's ``.grad`` accumulates in place when no graph is recorded, as PyTorch's AccumulateGrad does."""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf

torch = pytest.importorskip("torch")


def _version(t):
    return t._version[0] if isinstance(t, nf.Tensor) else t._version  # nbframe's counter is shared by views


def _both(values):
    return nf.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)


@pytest.mark.parametrize("engine", ["arrays", "tensors"])
def test_the_grad_tensor_is_the_same_object_and_sees_the_sum(engine):
    values = np.array([1.0, -2.0, 3.0])
    for m, a in zip((nf, torch), _both(values)):
        (a * 2).sum().backward()
        first = a.grad
        version = _version(first)
        loss = (a * a).sum()
        if engine == "arrays" or m is torch:
            loss.backward()
        else:  # the Tensor engine (what autograd.grad and create_graph use) takes the same rule
            nf.autograd.backward([loss], [nf.ones(())])
        assert a.grad is first
        assert _version(first) > version
        np.testing.assert_allclose(np.asarray(first.detach().numpy()), 2 + 2 * values)


def test_a_gradient_shared_with_a_node_still_to_run_is_not_changed():
    # a + h: Add hands the same gradient array to the leaf a and to h's node; a then gets more
    # gradients (through h and through c) before h's node has run.
    values = np.array([0.5, -1.0, 2.0])
    grads = []
    for a in _both(values):
        h = a.exp()
        c = a * 3
        y = (a + h) * 2 + c * h
        y.sum().backward(retain_graph=True)
        (a + h).sum().backward()
        grads.append(a.grad.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
@pytest.mark.parametrize("create_graph", [False, True])
def test_a_first_gradient_a_node_still_waits_with_is_not_changed(create_graph):
    # Add(a, h) runs first: a's first gradient G is also what h's node waits with (h has a second
    # consumer); then a * h gives a more gradient before h's node has its last one. G must not change.
    values = np.array([0.5, -1.0, 2.0])
    grads = []
    for a in _both(values):
        h = a.exp()
        ((a * h).sum() + (a + h).sum()).backward(create_graph=create_graph)
        grads.append(a.grad.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_a_read_only_grad_set_by_the_user_is_replaced_not_written():
    shared = np.broadcast_to(np.array(1.0), (3,))  # read-only
    a = nf.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a.grad = nf.from_numpy(shared)
    (a * 2).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0, 3.0])
    np.testing.assert_array_equal(shared, [1.0, 1.0, 1.0])


def test_zero_grad_without_none_then_backward_accumulates_into_the_zeros():
    model = nf.nn.Linear(3, 2)
    opt = nf.optim.SGD(model.parameters(), lr=0.1)
    x = nf.randn(4, 3)
    model(x).sum().backward()
    weight_grad = model.weight.grad
    opt.zero_grad(set_to_none=False)
    model(x).sum().backward()
    assert model.weight.grad is weight_grad
    np.testing.assert_allclose(weight_grad.numpy(), np.tile(x.numpy().sum(0), (2, 1)), rtol=1e-6)


def test_an_optimizer_state_is_not_an_alias_of_the_grad():
    p = nf.nn.Parameter(nf.tensor([1.0, 2.0]))
    opt = nf.optim.SGD([p], lr=0.1, momentum=0.9)
    (p * 3).sum().backward()
    opt.step()
    buffer = opt.state[p]["momentum_buffer"].numpy().copy()
    (p * 5).sum().backward()  # accumulates into p.grad in place: the buffer must not follow
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"].numpy(), buffer)


@pytest.mark.parametrize("engine", ["arrays", "tensors"])
def test_two_leaves_never_share_gradient_memory(engine):
    # a reshape's gradient is a view of the gradient its sibling leaf b gets from the same Add
    weights = np.array([[1.0, 2.0], [3.0, 4.0]])
    for m in (nf, torch):
        a = m.ones(4, dtype=m.float64, requires_grad=True)
        b = m.ones(2, 2, dtype=m.float64, requires_grad=True)
        for _ in range(2):  # the second backward accumulates in place
            loss = ((a.reshape(2, 2) + b) * m.tensor(weights)).sum()
            if engine == "arrays" or m is torch:
                loss.backward()
            else:
                nf.autograd.backward([loss], [nf.ones((), dtype=nf.float64)])
        if m is nf:
            assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
            a.grad.mul_(0)  # clip_grad_norm_ and friends change .grad in place
            ours = b.grad.numpy().copy()
        else:
            theirs = b.grad.numpy()
    np.testing.assert_array_equal(ours, theirs)


def test_a_gradient_a_hook_kept_or_a_retained_grad_is_not_changed_by_the_next_backward():
    kept = {}
    for m in (nf, torch):
        a = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        seen = []
        a.register_hook(lambda g, seen=seen: seen.append(g))
        h = a * 1
        h.retain_grad()
        (h + a).sum().backward()  # Add hands one gradient to h's node (retained) and to the leaf a
        retained = h.grad
        (a * 3).sum().backward()  # accumulates into a.grad in place
        kept[m] = (seen[0].numpy().copy(), retained.numpy().copy(), a.grad.numpy().copy())
    for ours, theirs in zip(kept[nf], kept[torch]):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("how", ["backward", "grad", "create_graph"])
def test_a_leaf_hook_runs_once_on_the_whole_gradient_as_in_pytorch(how):
    results = []
    for m in (nf, torch):
        w = m.tensor([1.0, -2.0, 0.3], dtype=m.float64, requires_grad=True)
        calls = []
        w.register_hook(lambda g, calls=calls: calls.append(1) or g.clamp(-1, 1))  # clipping a shared weight
        loss = (w * 3).sum() + (w * w).sum()
        if how == "backward":
            loss.backward()
            grad = w.grad
        else:
            (grad,) = m.autograd.grad(loss, w, create_graph=how == "create_graph")
        results.append((len(calls), grad.detach().numpy()))
    assert results[0][0] == results[1][0] == 1
    np.testing.assert_array_equal(results[0][1], results[1][1])
