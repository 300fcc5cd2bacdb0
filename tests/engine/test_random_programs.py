"""Random training-like programs, run in nbframe and PyTorch: the engine's parts together.

Each program mixes what the engine treats specially: several-output ops (split, unbind), leaves
used many times and hooked, a retained non-leaf gradient, in-place changes of non-leaves, views,
consumers the loss never reaches, two backward calls that accumulate, and ``autograd.grad``. Every
leaf gradient, retained gradient and hook call must match PyTorch's.
"""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf

torch = pytest.importorskip("torch")


def _program(m, seed: int):
    rng = np.random.default_rng(seed)
    leaves = [m.tensor(rng.standard_normal((4, 6)), requires_grad=True) for _ in range(3)]
    calls = []
    for i, leaf in enumerate(leaves):
        if rng.random() < 0.5:  # a hook that sees the gradient and halves it
            leaf.register_hook(lambda g, i=i, calls=calls: calls.append((i, _numpy(g).copy())) or g * 0.5)
    values = list(leaves)
    retained = None
    side = []
    for _ in range(10):
        kind = int(rng.integers(8))
        x = values[int(rng.integers(len(values)))]
        y = values[int(rng.integers(len(values)))]
        if kind == 0:
            out = x * y + x
        elif kind == 1:
            first, second = x.split(3, dim=1)
            out = m.cat([second.tanh(), first * 2], dim=1)
        elif kind == 2:
            rows = x.unbind(0)
            out = m.stack([rows[3], rows[0] * rows[1], rows[2], rows[1].sigmoid()])
        elif kind == 3:
            out = (x - y).relu() * 3
            out.mul_(0.5)  # in place on a non-leaf
        elif kind == 4:
            out = x.t().reshape(4, 6) + y[:, :1]  # views and broadcasting
        elif kind == 5:
            out = x.exp().clamp(max=5.0) - y
            side.append(out * 2)  # a consumer the loss never reaches
        elif kind == 6:
            out = x / (y * y + 1)
            if retained is None:
                out.retain_grad()
                retained = out
        else:
            out = (x @ y.t()).softmax(-1) @ y
        values.append(out)
    loss = sum((v * v).mean() for v in values[-3:]) + values[3].sum()
    return leaves, loss, retained, calls


@pytest.mark.parametrize("seed", range(16))
def test_random_programs_match_pytorch(seed):
    results = {}
    for m in (nf, torch):
        m.manual_seed(0)
        leaves, loss, retained, calls = _program(m, seed)
        loss.backward(retain_graph=True)
        loss.backward()  # accumulates (in place in nbframe)
        leaves2, loss2, _, calls2 = _program(m, seed + 1000)
        grads = m.autograd.grad(loss2, leaves2, allow_unused=True)
        results[m] = (
            [_numpy(leaf.grad) for leaf in leaves],
            None if retained is None else _numpy(retained.grad),
            calls,
            [_numpy(g) for g in grads],
            calls2,
        )
    ours, theirs = results[nf], results[torch]
    for a, b in zip(ours[0] + [ours[1]] + ours[3], theirs[0] + [theirs[1]] + theirs[3]):
        _same(a, b)
    for mine, ref in ((ours[2], theirs[2]), (ours[4], theirs[4])):
        assert sorted(i for i, _ in mine) == sorted(i for i, _ in ref)  # each hook once per backward
        for (_, g), (_, h) in zip(sorted(mine, key=lambda c: c[0]), sorted(ref, key=lambda c: c[0])):
            _same(g, h)


def _numpy(t):
    return None if t is None else t.detach().numpy()


def _same(a, b) -> None:
    if b is None:
        assert a is None
    else:
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
