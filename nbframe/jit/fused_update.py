"""The optimiser's update as part of the compiled step: ``zero_grad``, gradient delivery and ``step`` done
on what the compiled backward hands over, without the eager loop's per-step bookkeeping.

An ``nf.optim.Optimizer`` writes its rule once, on raw arrays, as ``_update(param, grad, state, group)``;
``Optimizer.step`` is only a loop over the groups calling it. The compiled step gives each parameter its
gradient the moment the backward schedule completes it, remembers the parameter's group, and after the
backward calls that same rule on each: exactly eager's update. The updates wait for the whole backward
(updating a parameter as soon as its gradient is done measured no faster) so that an error or an
interrupt during backward leaves every parameter as it was, as in eager mode.

Hyper-parameters and state are read at every step, so learning-rate schedulers, ``add_param_group``
and ``load_state_dict`` between compiled steps are seen. An optimiser that overrides ``step`` (or is
not an nbframe ``Optimizer``) is driven the plain way instead: ``zero_grad()`` first, ``step()`` last.
"""

from __future__ import annotations

from ..tensor import Tensor, _wrap


def updates_for(optimizer) -> ParameterUpdates | PlainUpdates:
    """What a compiled step uses to zero, hand over and apply gradients for ``optimizer``."""
    from ..optim.optimizer import Optimizer

    cls = type(optimizer)
    own_rule = cls._update is not Optimizer._update
    if isinstance(optimizer, Optimizer) and cls.step is Optimizer.step and own_rule:
        return ParameterUpdates(optimizer)
    return PlainUpdates(optimizer)


class ParameterUpdates:
    """``begin()`` is ``zero_grad()``; ``finish(param, grad)`` is the engine's delivery to a leaf; ``end()``
    is ``step()`` over the parameters that got a gradient, by the optimiser's own ``_update``."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self._groups = None  # the param_groups list the maps below were built from
        self._count = -1
        self._reached: frozenset | None = None
        self._group_of: dict[int, dict] = {}
        self._unreached: list = []
        self._pending: list = []

    def begin(self, params_in_graph: frozenset) -> None:
        """``zero_grad()``: the graph's parameters get theirs in ``finish``; the optimiser's others (ids not
        in ``params_in_graph``) are set to None here."""
        groups = self.optimizer.param_groups
        if groups is not self._groups or len(groups) != self._count or params_in_graph is not self._reached:
            self._group_of = {id(p): group for group in groups for p in group["params"]}
            self._unreached = [p for group in groups for p in group["params"] if id(p) not in params_in_graph]
            self._groups, self._count, self._reached = groups, len(groups), params_in_graph
        for p in self._unreached:
            p.grad = None
        self._pending.clear()

    def finish(self, param: Tensor, grad, owned: bool) -> None:
        """Give ``param`` its gradient array ``grad`` (None: no gradient reached it).

        ``owned``: whether nobody else holds ``grad`` (else it is copied, as the engine does, so that
        each ``.grad`` can be changed in place). A parameter outside the optimiser accumulates, as in
        eager mode, where ``zero_grad`` does not reach it.
        """
        group = self._group_of.get(id(param))
        if group is None:
            accumulate(param, grad, owned)
            return
        if grad is not None:
            grad, owned = leaf_gradient(param, grad, owned)
        if grad is None or not param.requires_grad:
            param.grad = None
            return
        grad = grad if owned else grad.copy()
        param.grad = _wrap(grad, False, None, 0)
        self._pending.append((param, grad, group))

    def end(self) -> None:
        """``step()``: each parameter that got a gradient, updated in place by the optimiser's rule."""
        update, state = self.optimizer._update, self.optimizer.state
        for param, grad, group in self._pending:
            update(param.array, grad, state[param], group)
            param._version[0] += 1
        self._pending.clear()


class PlainUpdates:
    """For an optimiser whose ``step`` is its own: ``zero_grad()``, the gradients, then ``step()``."""

    def __init__(self, optimizer):
        self.optimizer = optimizer

    def begin(self, params_in_graph: frozenset) -> None:
        self.optimizer.zero_grad()

    def finish(self, param: Tensor, grad, owned: bool) -> None:
        accumulate(param, grad, owned)

    def end(self) -> None:
        self.optimizer.step()


def accumulate(param: Tensor, grad, owned: bool) -> None:
    """The engine's delivery of ``grad`` (an array, or None) to a leaf: set, or added to what is there."""
    if grad is None:
        return
    grad, owned = leaf_gradient(param, grad, owned)
    if not param.requires_grad:
        return
    old = param.grad
    array = old.array + grad if old is not None else (grad if owned else grad.copy())
    param.grad = _wrap(array, False, None, 0)


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
