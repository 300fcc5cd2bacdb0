"""The optimiser's update inside the compiled step: each parameter is updated as soon as its gradient is
complete, while that gradient is still in the cache, through the optimiser's own per-parameter rule.

An ``nf.optim.Optimizer`` writes its rule once, on raw arrays, as ``_update(param, grad, state, group)``;
``Optimizer.step`` is only a loop over the groups calling it. Calling that same rule per parameter from
the backward schedule gives exactly eager's update, in another order (parameters are independent).
Hyper-parameters and state are read at every step, so learning-rate schedulers, ``add_param_group``
and ``load_state_dict`` between compiled steps are seen. An optimiser that overrides ``step`` (or is
not an nbframe ``Optimizer``) is driven the plain way instead: ``zero_grad()`` first, ``step()`` last.
"""

from __future__ import annotations

from ..tensor import Tensor, _wrap


def fusable(optimizer) -> bool:
    """Whether ``optimizer``'s step is the base class's loop over ``_update`` (so it can be split up)."""
    from ..optim.optimizer import Optimizer

    cls = type(optimizer)
    return (isinstance(optimizer, Optimizer) and cls.step is Optimizer.step
            and cls._update is not Optimizer._update)


class ParameterUpdates:
    """Hands each parameter its gradient, as eager's ``zero_grad(); loss.backward()`` would, and runs the
    optimiser's update of it right away. ``begin()`` once per step, then ``finish(param, grad)``."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self._groups = None  # the param_groups list the map below was built from
        self._count = -1
        self._group_of: dict[int, dict] = {}
        self._reached: frozenset | None = None
        self._unreached: list = []
        self._state = None
        self._update = None

    def begin(self, params_in_graph: frozenset) -> None:
        """Read the optimiser's groups and state for this step; ``zero_grad()`` its parameters that the
        graph does not reach (ids not in ``params_in_graph``: their ``.grad`` is None after an eager step)."""
        optimizer = self.optimizer
        groups = optimizer.param_groups
        if groups is not self._groups or len(groups) != self._count or params_in_graph is not self._reached:
            self._group_of = {id(p): group for group in groups for p in group["params"]}
            self._unreached = [p for group in groups for p in group["params"] if id(p) not in params_in_graph]
            self._groups, self._count, self._reached = groups, len(groups), params_in_graph
        for p in self._unreached:
            p.grad = None
        self._state = optimizer.state
        self._update = optimizer._update

    def finish(self, param: Tensor, grad, owned: bool) -> None:
        """Give ``param`` its gradient array ``grad`` (or None) and update it when the optimiser has it.

        ``owned``: whether nobody else holds ``grad`` (else it is copied, as the engine does, so that
        each ``.grad`` can be changed in place). A parameter outside the optimiser accumulates, as in
        eager mode, where ``zero_grad`` does not reach it.
        """
        group = self._group_of.get(id(param))
        if grad is not None:
            grad, owned = leaf_gradient(param, grad, owned)
        if grad is None or not param.requires_grad:
            if group is not None:
                param.grad = None
            return
        if group is None:
            old = param.grad
            param.grad = _wrap(old.array + grad if old is not None else (grad if owned else grad.copy()),
                               False, None, 0)
            return
        grad = grad if owned else grad.copy()
        param.grad = _wrap(grad, False, None, 0)
        self._update(param.array, grad, self._state[param], group)
        param._version[0] += 1

    def end(self) -> None:
        """Nothing left: every update ran in ``finish``."""


class PlainUpdates:
    """For an optimiser whose ``step`` is its own: ``zero_grad()``, the gradients, then ``step()``."""

    def __init__(self, optimizer):
        self.optimizer = optimizer

    def begin(self, params_in_graph: frozenset) -> None:
        self.optimizer.zero_grad()

    def finish(self, param: Tensor, grad, owned: bool) -> None:
        if grad is None:
            return
        grad, owned = leaf_gradient(param, grad, owned)
        if not param.requires_grad:
            return
        old = param.grad
        param.grad = _wrap(old.array + grad if old is not None else (grad if owned else grad.copy()),
                           False, None, 0)

    def end(self) -> None:
        self.optimizer.step()


def updates_for(optimizer) -> ParameterUpdates | PlainUpdates:
    return ParameterUpdates(optimizer) if fusable(optimizer) else PlainUpdates(optimizer)


def leaf_gradient(param: Tensor, grad, owned: bool) -> tuple:
    """``grad`` in ``param``'s dtype, after ``param``'s own hooks (``register_hook``), as the engine
    delivers it; and whether it is still an array nobody else holds."""
    if grad.dtype != param.array.dtype:
        grad, owned = grad.astype(param.array.dtype), True
    hooks = param._hooks
    if hooks:
        for hook in tuple(hooks):
            new = hook(_wrap(grad, False, None, 0))
            if new is not None:
                grad, owned = new.array, False
    return grad, owned
