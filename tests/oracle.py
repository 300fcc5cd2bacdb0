"""Compare an nbframe computation with PyTorch and with finite differences.

``check(fn, *arrays)`` runs ``fn`` once with nbframe as the module and once
with torch, on the same float64 inputs, and compares the outputs and the
gradients of every input; then ``gradcheck`` compares nbframe's gradients with
central differences. ``fn(m, *tensors)`` receives the module (``nf`` or
``torch``) first, so one lambda describes the computation for both.
"""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf


def torch_or_skip():
    return pytest.importorskip("torch")


def _to_numpy(x):
    if hasattr(x, "detach"):
        x = x.detach()
    if hasattr(x, "cpu") and not isinstance(x, nf.Tensor):
        x = x.cpu()
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def _outputs(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def run_both(fn, *arrays, requires_grad=True, dtype=np.float64):
    """Outputs and input gradients of ``fn`` in nbframe and in torch, as NumPy arrays."""
    torch = torch_or_skip()
    arrays = [np.asarray(a) for a in arrays]
    nf_in = [
        nf.tensor(
            a.astype(dtype) if a.dtype.kind == "f" else a, requires_grad=requires_grad and a.dtype.kind == "f"
        )
        for a in arrays
    ]
    th_in = [
        torch.tensor(
            a.astype(dtype) if a.dtype.kind == "f" else a, requires_grad=requires_grad and a.dtype.kind == "f"
        )
        for a in arrays
    ]
    results = []
    for module, inputs in ((nf, nf_in), (torch, th_in)):
        outs = _outputs(fn(module, *inputs))
        grads = []
        diff_outs = [o for o in outs if getattr(o, "requires_grad", False)]
        if diff_outs:
            seeds = [np.cos(np.arange(_to_numpy(o).size)).reshape(_to_numpy(o).shape) for o in diff_outs]
            module_seeds = [module.tensor(s, dtype=o.dtype) for s, o in zip(seeds, diff_outs)]
            leaves = [t for t in inputs if t.requires_grad]
            got = module.autograd.grad(diff_outs, leaves, module_seeds, allow_unused=True)
            grads = [None if g is None else _to_numpy(g) for g in got]
        results.append(([_to_numpy(o) for o in outs], grads))
    return results


def check(fn, *arrays, rtol=1e-6, atol=1e-8, gradcheck=True, requires_grad=True):
    """Assert that ``fn`` matches torch (values and gradients) and passes gradcheck in float64."""
    (nf_out, nf_grads), (th_out, th_grads) = run_both(fn, *arrays, requires_grad=requires_grad)
    assert len(nf_out) == len(th_out), f"{len(nf_out)} outputs, torch gives {len(th_out)}"
    for i, (a, b) in enumerate(zip(nf_out, th_out)):
        assert a.shape == b.shape, f"output {i}: shape {a.shape}, torch {b.shape}"
        assert a.dtype == b.dtype or (a.dtype.kind == b.dtype.kind == "f"), (
            f"output {i}: {a.dtype} vs {b.dtype}"
        )
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"output {i} differs from torch")
    for i, (a, b) in enumerate(zip(nf_grads, th_grads)):
        if b is None:
            assert a is None or not np.any(a), f"grad {i}: torch has none"
            continue
        assert a is not None, f"grad {i}: nbframe has none, torch has one"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"gradient of input {i} differs")
    if gradcheck and requires_grad:
        inputs = [
            nf.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
            if np.asarray(a).dtype.kind == "f"
            else nf.tensor(a)
            for a in arrays
        ]
        assert nf.autograd.gradcheck(lambda *xs: fn(nf, *xs), inputs)


def check_forward(fn, *arrays, rtol=1e-6, atol=1e-8):
    """Forward only (integer and bool ops, non-differentiable results)."""
    check(fn, *arrays, rtol=rtol, atol=atol, gradcheck=False, requires_grad=False)


def raises_like_torch(action):
    """``action(m)`` raises the same RuntimeError in nbframe and torch (nbframe may add where, after it)."""
    torch = torch_or_skip()
    messages = []
    for m in (nf, torch):
        with pytest.raises(RuntimeError) as error:
            action(m)
        messages.append(str(error.value))
    assert messages[0].startswith(messages[1].split("Traceback")[0].strip()), messages
