"""``Optimizer``: the base of every optimiser — param groups, per-parameter state, state dicts.

Subclasses write the update of one parameter once, on raw arrays through ``xp``
(NumPy or CuPy), in ``_update(param, grad, state, group)``. The base class loops
over the groups under ``no_grad``, skips parameters without a gradient and bumps
each updated parameter's version counter, since its array changes in place.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd.grad_mode import enable_grad, no_grad
from ..backend import get_array_module
from ..tensor import Tensor, _wrap


class _RequiredParameter:
    """Marks a hyper-parameter without a default (``lr`` of SGD in old PyTorch)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Holds ``param_groups`` (dicts of parameters plus hyper-parameters) and ``state``."""

    def __init__(self, params: Iterable, defaults: dict[str, Any]):
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {type(params).__name__}"
            )
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ----------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyper-parameters (the rest from ``defaults``)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of "
                "tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        if params and isinstance(params[0], tuple):  # named parameters: (name, tensor)
            param_group["param_names"] = [name for name, _ in params]
            params = [p for _, p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        param_group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )
            param_group.setdefault(name, default)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self._validate_group(param_group)
        self.param_groups.append(param_group)
        self._init_group_state(param_group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Subclasses check hyper-parameter ranges here (PyTorch's ValueErrors)."""

    def _init_group_state(self, group: dict[str, Any]) -> None:
        """Subclasses that create state eagerly (Adagrad) do it here."""

    # ----------------------------------------------------------------- steps
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: drop them (default) or fill them with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif getattr(g.array.flags, "writeable", True) and g.grad_fn is None:
                    g.array.fill(0)
                    g._version[0] += 1
                else:  # a read-only (broadcast) or graph-attached gradient: replace it, as detach_() would
                    p.grad = _wrap(get_array_module(g.array).zeros_like(g.array), False, None, 0)

    def step(self, closure: Callable[[], Any] | None = None):
        """One update of every parameter that has a gradient; ``closure`` re-evaluates the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            update, state = self._update, self.state
            for group in self.param_groups:
                for p in group["params"]:
                    g = p.grad
                    if g is None:
                        continue
                    update(p.array, g.array, state[p], group)
                    p._version[0] += 1
        return loss

    def _update(self, param, grad, state: dict, group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    # ----------------------------------------------------------------- state dicts
    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout: ``{"state": {index: {...}}, "param_groups": [{..., "params": [index]}]}``."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if s and id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyper-parameters and state; state tensors follow each parameter's dtype and device."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for mine, saved in zip(self.param_groups, saved_groups):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of optimizer's "
                    f"group ({len(saved['params'])} saved, {len(mine['params'])} here)"
                )
        id_map = {}
        for mine, saved in zip(self.param_groups, saved_groups):
            id_map.update(zip(saved["params"], mine["params"]))
        self.state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            key = int(key)
            if key not in id_map:
                continue
            param = id_map[key]
            self.state[param] = {name: _cast_state(param, name, v) for name, v in value.items()}
        new_groups = []
        for mine, saved in zip(self.param_groups, saved_groups):
            group = copy.deepcopy({k: v for k, v in saved.items() if k != "params"})
            group["params"] = mine["params"]
            new_groups.append(group)
        self.param_groups = new_groups

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _cast_state(param: Tensor, name: str, value):
    """A copy of one saved state value, moved to ``param``'s device (and dtype, except ``step``).

    Accepts Tensors, NumPy arrays and (for ``step``, as old PyTorch checkpoints hold it) plain numbers.
    """
    if isinstance(value, Tensor):
        array = value.array
    elif isinstance(value, np.ndarray) or (name == "step" and isinstance(value, (int, float))):
        array = np.asarray(value)
    else:
        return copy.deepcopy(value)
    if hasattr(array, "get"):  # CuPy -> host, to be placed below
        array = array.get()
    if name == "step":  # kept on the CPU in float32, as PyTorch does
        return _wrap(np.array(array, dtype=np.float32), False, None, 0)
    xp = get_array_module(param.array)
    dtype = param.array.dtype if array.dtype.kind == "f" else array.dtype
    return _wrap(xp.array(array, dtype=dtype, copy=True), False, None, 0)


def state_tensor(array) -> Tensor:
    """Wrap a state array (momentum buffer, moment estimate) as a Tensor for ``optimizer.state``."""
    return _wrap(array, False, None, 0)


def new_step() -> Tensor:
    """A fresh step counter: a 0-d float32 tensor on the CPU, as PyTorch keeps it."""
    return _wrap(np.zeros((), dtype=np.float32), False, None, 0)
