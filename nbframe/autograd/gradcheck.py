"""``gradcheck`` and ``gradgradcheck``: analytical gradients against finite differences.

Use float64 inputs: in float32 the central difference itself is too noisy.
"""

from __future__ import annotations

import numpy as np


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)


def _outputs(func, inputs) -> tuple:
    from ..tensor import Tensor

    return tuple(o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor))


def _numerical_jacobian(func, inputs, index: int, eps: float) -> list:
    """d(every output)/d(inputs[index]) by central differences: one matrix per output."""
    x = inputs[index]
    flat = x.array.reshape(-1)  # a view: perturb in place, restore after
    columns = []
    # Not under no_grad: gradgradcheck's function itself differentiates.
    for j in range(flat.size):
        orig = flat[j].item()
        flat[j] = orig + eps
        plus = [o.array.astype(np.float64).ravel().copy() for o in _outputs(func, inputs)]
        flat[j] = orig - eps
        minus = [o.array.astype(np.float64).ravel().copy() for o in _outputs(func, inputs)]
        flat[j] = orig
        columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    n_out = len(columns[0]) if columns else 0
    return [np.stack([col[k] for col in columns], axis=1) if columns else None for k in range(n_out)]


def _analytical_jacobian(func, inputs, index: int) -> list:
    from ..creation import zeros_like
    from . import grad as autograd_grad

    outputs = _outputs(func, inputs)
    x = inputs[index]
    result = []
    for out in outputs:
        rows = []
        if not out.requires_grad:
            result.append(np.zeros((out.array.size, x.array.size)))
            continue
        for i in range(out.array.size):
            seed = zeros_like(out)
            seed.array.reshape(-1)[i] = 1
            (g,) = autograd_grad(out, x, grad_outputs=seed, retain_graph=True, allow_unused=True)
            rows.append(np.zeros(x.array.size) if g is None else np.asarray(g.array, np.float64).ravel())
        result.append(np.stack(rows) if rows else np.zeros((0, x.array.size)))
    return result


def gradcheck(
    func,
    inputs,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    fast_mode: bool = False,
    **unused,
) -> bool:
    """True when every analytical Jacobian matches the numerical one; otherwise raise (or return False)."""
    from ..tensor import Tensor

    inputs = _as_tuple(inputs)
    for k, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad:
            if x.array.dtype != np.float64:
                import warnings

                warnings.warn(
                    f"gradcheck: input {k} is {x.dtype}, not float64; finite differences will be noisy",
                    stacklevel=2,
                )
            numerical = _numerical_jacobian(func, inputs, k, eps)
            analytical = _analytical_jacobian(func, inputs, k)
            for o, (a, n) in enumerate(zip(analytical, numerical)):
                if n is None:
                    continue
                if not np.allclose(a, n, rtol=rtol, atol=atol):
                    worst = np.unravel_index(np.argmax(np.abs(a - n)), a.shape)
                    message = (
                        f"Jacobian mismatch for output {o} with respect to input {k},\n"
                        f"numerical:{n}\nanalytical:{a}\n"
                        f"largest difference at (output element, input element) {tuple(map(int, worst))}: "
                        f"analytical {a[worst]:.6g} vs numerical {n[worst]:.6g}"
                    )
                    if raise_exception:
                        raise GradcheckError(message)
                    return False
    return True


def gradgradcheck(
    func,
    inputs,
    grad_outputs=None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    **unused,
) -> bool:
    """Check the gradient of the gradient (the backward's own backward) against finite differences."""
    from ..creation import randn_like
    from ..tensor import Tensor
    from . import grad as autograd_grad

    inputs = _as_tuple(inputs)
    diff_inputs = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    outputs = _outputs(func, inputs)
    if grad_outputs is None:
        grad_outputs = tuple(randn_like(o).double().to(o.dtype).requires_grad_(True) for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)

    def first_derivative(*args):
        ins, gos = args[:n], args[n:]
        outs = _outputs(func, ins)
        diff = [x for x in ins if isinstance(x, Tensor) and x.requires_grad]
        grads = autograd_grad(outs, diff, grad_outputs=gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(
        first_derivative,
        inputs + tuple(grad_outputs),
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
    ) and bool(diff_inputs or True)


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when analytical and numerical gradients differ."""
