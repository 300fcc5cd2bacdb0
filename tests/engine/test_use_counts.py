"""Plain ``loss.backward()`` runs a node once its forward-counted consumers have delivered (``Node._uses``).

A consumer the loss does not reach (a metric, a result thrown away) leaves a node short of gradients;
the engine then counts the rest of the graph itself. These tests build the same graphs in nbframe and
in PyTorch, with such consumers, and compare every leaf's gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from nbframe.autograd import engine

torch = pytest.importorskip("torch")


def _leaves(rng, m, n=3, size=4):
    arrays = [rng.standard_normal(size) for _ in range(n)]
    return arrays, [m.tensor(a, dtype=m.float64, requires_grad=True) for a in arrays]


def _same_grads(build, seed=0):
    """``build(m, leaves) -> loss`` in both frameworks: the leaves' gradients agree."""
    rng = np.random.default_rng(seed)
    arrays, ours = _leaves(rng, nf)
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    build(nf, ours).backward()
    build(torch, theirs).backward()
    for mine, ref in zip(ours, theirs):
        if ref.grad is None:
            assert mine.grad is None
        else:
            np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.fixture
def recounts(monkeypatch):
    """How many times the engine had to count what was left of a graph."""
    calls = []
    original = engine._recount

    def spy(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(engine, "_recount", spy)
    return calls


def test_a_chain_and_a_diamond_need_no_counting(recounts):
    def build(m, leaves):
        a, b, c = leaves
        h = a * b + a
        return ((h.relu() * 2 + h.sigmoid()) * c).sum()

    _same_grads(build)
    assert recounts == []


def test_a_consumer_the_loss_does_not_reach_is_counted_out(recounts):
    kept = []

    def build(m, leaves):
        a, b, c = leaves
        h = a * b
        kept.append(h.exp() * 3)  # a metric: made from h, never part of the loss
        return (h.tanh() * c).sum()

    _same_grads(build)
    assert recounts == [1]


def test_a_result_thrown_away_below_a_diamond(recounts):
    def build(m, leaves):
        a, b, c = leaves
        h = a * b
        g = h + c
        _ = g * 5  # thrown away
        _ = (h - 1).sum()  # thrown away too
        return (g.sin() + g.cos() * h).sum()

    _same_grads(build)
    assert len(recounts) == 1


def test_a_call_with_no_differentiable_output_is_not_counted(recounts):
    def build(m, leaves):
        a, b, _ = leaves
        out = a * b
        out.argmax()  # indices: no gradient will come through it
        (out > 0).sum()  # a comparison: none either
        return out.square().sum()

    _same_grads(build)
    assert recounts == []


def test_several_outputs_some_unused(recounts):
    def build(m, leaves):
        a, b, _ = leaves
        first, second, third, fourth = (a * b).unbind(0)
        _ = second * 4  # an output used only by a thrown-away consumer
        return first * 2 + fourth.exp() + first * third

    _same_grads(build)


def test_a_custom_function_with_a_consumer_left_out(recounts):
    class Cube(nf.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    class TorchCube(torch.autograd.Function):
        forward, backward = Cube.forward, Cube.backward

    def build(m, leaves):
        a, b, _ = leaves
        cube = Cube if m is nf else TorchCube
        y = cube.apply(a * b)
        _ = y + 1  # left out
        return (cube.apply(y) + y).sum()

    _same_grads(build)


def test_a_second_backward_after_new_consumers_with_retain_graph():
    rng = np.random.default_rng(1)
    arrays, (a, b, _) = _leaves(rng, nf)
    ta, tb = (torch.tensor(x, requires_grad=True) for x in arrays[:2])
    for x, y in ((a, b), (ta, tb)):
        h = x * y
        loss = (h * h).sum()
        loss.backward(retain_graph=True)
        other = h.exp() * 2  # a new consumer of h after the first backward
        loss.backward(retain_graph=True)
        other.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12)


def test_the_graph_is_still_freed_after_a_recount():
    import gc
    import weakref

    a = nf.tensor([1.0, 2.0], requires_grad=True)
    h = a * 3
    side = h.exp()
    node = weakref.ref(h.grad_fn)
    (h * 2).sum().backward()
    assert h.grad_fn._freed
    del h, side
    gc.collect()
    assert node() is None


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_with_left_out_consumers_match_pytorch(seed):
    """Random DAGs over a few leaves: shared nodes, diamonds, indices, and consumers outside the loss."""
    ops = [
        lambda m, x, y: x * y,
        lambda m, x, y: x + y,
        lambda m, x, y: x - y * 0.5,
        lambda m, x, y: (x * 0.3).tanh() * y,
        lambda m, x, y: x.sigmoid() + y.relu(),
        lambda m, x, y: m.stack([x, y]).sum(0),
        lambda m, x, y: m.maximum(x, y),
    ]
    plan_rng = np.random.default_rng(100 + seed)
    steps = []
    for i in range(12):
        steps.append((int(plan_rng.integers(len(ops))), int(plan_rng.integers(3 + i)),
                      int(plan_rng.integers(3 + i)), bool(plan_rng.random() < 0.3)))
    picked = sorted(set(plan_rng.integers(3, 15, size=3).tolist()))

    def build(m, leaves):
        values = list(leaves)
        for op, i, j, side in steps:
            values.append(ops[op](m, values[i], values[j]))
            if side:
                _ = values[-1].exp() * 2  # left out of the loss
                values[-1].argmax()
        loss = values[picked[0]].sum()
        for k in picked[1:]:
            loss = loss + (values[k] * values[k]).mean()
        return loss

    _same_grads(build, seed)
