"""``Module``: the base class of every layer and model, with PyTorch's everyday API.

A Module owns three ordered dictionaries, filled by attribute assignment:
``_parameters`` (Parameters), ``_buffers`` (non-learnable state such as
BatchNorm's running mean) and ``_modules`` (child modules). Everything else —
``parameters()``, ``state_dict()``, ``to()``, ``train()``, the repr — walks
that tree. Names and state-dict keys are exactly PyTorch's (``"0.weight"``,
``"encoder.layers.1.bias"``), so weights move between the two through NumPy.

Calling a module runs ``forward``; hooks (forward pre-hooks, forward hooks,
full backward hooks) are honoured only when some are registered, so that a
plain call costs one dictionary check on the training hot path.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from .parameter import Buffer, Parameter

__all__ = ["Module"]  # the global hook functions stay in this module, as in torch.nn.modules.module

# Hooks that run for every module (PyTorch's torch.nn.modules.module.register_module_*_hook).
_global_forward_pre_hooks: OrderedDict = OrderedDict()
_global_forward_hooks: OrderedDict = OrderedDict()
_global_backward_hooks: OrderedDict = OrderedDict()
_GLOBAL_HOOKS = [_global_forward_pre_hooks, _global_forward_hooks, _global_backward_hooks]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it did not find and the ones it did not use."""

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class RemovableHandle:
    """Returned by every ``register_*_hook``: ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks_dict: dict, *extra_dicts: dict):
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1
        self._dicts = (hooks_dict, *extra_dicts)

    def remove(self) -> None:
        for d in self._dicts:
            d.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def _add_hook(hooks: OrderedDict, hook: Callable, prepend: bool, *extra: dict) -> RemovableHandle:
    handle = RemovableHandle(hooks, *extra)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """``hook(module, args)`` before every module's forward (may return new args)."""
    return _add_hook(_global_forward_pre_hooks, hook, False)


def register_module_forward_hook(hook: Callable) -> RemovableHandle:
    """``hook(module, args, output)`` after every module's forward (may return a new output)."""
    return _add_hook(_global_forward_hooks, hook, False)


def register_module_full_backward_hook(hook: Callable) -> RemovableHandle:
    """``hook(module, grad_input, grad_output)`` for every module, when gradients reach its inputs."""
    return _add_hook(_global_backward_hooks, hook, False)


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


def _check_name(name, kind: str, owner: Module, existing: dict) -> None:
    """PyTorch's checks on a parameter, buffer or module name."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if "." in name:
        got = f", got: {name}" if kind == "module" else ""
        raise KeyError(f'{kind} name can\'t contain "."{got}')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if hasattr(owner, name) and name not in existing:
        raise KeyError(f"attribute '{name}' already exists")


def _typename(value) -> str:
    """PyTorch's ``torch.typename``: ``nbframe.FloatTensor``, ``int``, ``package.module.Class``."""
    if isinstance(value, Tensor):
        return value.type()
    cls = type(value)
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"


class Module:
    """Base class for all neural network modules (PyTorch's ``torch.nn.Module``).

    Subclasses call ``super().__init__()`` first, assign Parameters, buffers and
    child modules as attributes, and define ``forward``.
    """

    training: bool
    _version: int = 1

    def __init__(self, *args, **kwargs) -> None:
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected arguments: Module.__init__ takes none "
                f"(got {len(args)} positional and {sorted(kwargs)} keyword); "
                "call super().__init__() without arguments"
            )
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", OrderedDict())
        setattr_(self, "_buffers", OrderedDict())
        setattr_(self, "_non_persistent_buffers_set", set())
        setattr_(self, "_modules", OrderedDict())
        setattr_(self, "_forward_pre_hooks", OrderedDict())
        setattr_(self, "_forward_pre_hooks_with_kwargs", {})
        setattr_(self, "_forward_hooks", OrderedDict())
        setattr_(self, "_forward_hooks_with_kwargs", {})
        setattr_(self, "_forward_hooks_always_called", {})
        setattr_(self, "_backward_pre_hooks", OrderedDict())
        setattr_(self, "_backward_hooks", OrderedDict())
        setattr_(self, "_state_dict_hooks", OrderedDict())
        setattr_(self, "_load_state_dict_post_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # ================================================================ calling
    def __call__(self, *args, **kwargs):
        if (self._forward_hooks or self._forward_pre_hooks or self._backward_hooks or self._backward_pre_hooks
                or _global_forward_pre_hooks or _global_forward_hooks or _global_backward_hooks):
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        pre_hooks = itertools.chain(_global_forward_pre_hooks.items(), self._forward_pre_hooks.items())
        for hook_id, hook in pre_hooks:
            if hook_id in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                            f"but got {result}."
                        )
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)

        backward_hook = None
        wants_backward = self._backward_hooks or self._backward_pre_hooks or _global_backward_hooks
        if wants_backward and grad_mode._state.enabled:
            backward_hook = _BackwardHook(self)
            args = backward_hook.wrap_inputs(args)

        try:
            output = self.forward(*args, **kwargs)
        except BaseException:
            for hook_id, hook in self._forward_hooks.items():
                if hook_id in self._forward_hooks_always_called:
                    try:
                        self._run_forward_hook(hook_id, hook, args, kwargs, None)
                    except Exception:  # the forward's own error is the one to report
                        pass
            raise

        for hook_id, hook in itertools.chain(_global_forward_hooks.items(), self._forward_hooks.items()):
            result = self._run_forward_hook(hook_id, hook, args, kwargs, output)
            if result is not None:
                output = result

        if backward_hook is not None:
            output = backward_hook.wrap_outputs(output)
        return output

    _call_impl = __call__

    def _run_forward_hook(self, hook_id: int, hook: Callable, args: tuple, kwargs: dict, output):
        if hook_id in self._forward_hooks_with_kwargs:
            return hook(self, args, kwargs, output)
        return hook(self, args, output)

    # ================================================================ registration
    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter under ``name`` (``None`` keeps the name with no tensor, as for ``bias=False``)."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(name, "parameter", self, self._parameters)
        if param is None:
            self._parameters[name] = None
            return
        if not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{_typename(param)}' object to parameter "
                f"'{name}' (nbframe.nn.Parameter or None required)"
            )
        if param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be created "
                f"explicitly. To express '{name}' as a function of another Tensor, compute the value in "
                "the forward() method."
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer: state saved in ``state_dict`` (unless ``persistent=False``) but not trained."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(name, "buffer", self, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{_typename(tensor)}' object to buffer "
                f"'{name}' (nbframe Tensor or None required)"
            )
        if isinstance(tensor, Buffer):
            persistent = tensor.persistent
            tensor = _plain(tensor)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (it then shows in ``children()``, ``state_dict()``, repr)."""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        _check_name(name, "module", self, self._modules)
        self._modules[name] = module

    def register_module(self, name: str, module: Module | None) -> None:
        """Alias of ``add_module``."""
        self.add_module(name, module)

    # ================================================================ attributes
    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            members = d.get(store)
            if members is not None and name in members:
                return members[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _remove_from(self, name, d, d["_buffers"], d["_modules"])
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as parameter '{name}' "
                    "(nbframe.nn.Parameter or None expected)"
                )
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if d.get("_modules") is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            _remove_from(self, name, d, d["_parameters"], d["_buffers"])
            d["_modules"][name] = value
        elif name in d.get("_modules", ()):
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as child module "
                    f"'{name}' (nbframe.nn.Module or None expected)"
                )
            d["_modules"][name] = value
        elif isinstance(value, Buffer):
            if d.get("_buffers") is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            _remove_from(self, name, d, d["_parameters"], d["_modules"])
            self.register_buffer(name, value)
        elif name in d.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as buffer '{name}' "
                    "(nbframe.nn.Buffer, nbframe.Tensor or None expected)"
                )
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if name in d.get(store, ()):
                del d[store][name]
                d["_non_persistent_buffers_set"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list:
        keys = itertools.chain(dir(type(self)), self.__dict__, self._parameters, self._modules, self._buffers)
        return sorted(k for k in set(keys) if not k[0].isdigit())

    def _get_name(self) -> str:
        return type(self).__name__

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    # ================================================================ walking the tree
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for this module and every descendant, depth first; each module once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        memo = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, get_members: Callable, prefix: str = "", recurse: bool = True,
                       remove_duplicate: bool = True):
        memo = set()
        if recurse:
            modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            modules = [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in get_members(module):
                if value is None or (remove_duplicate and value in memo):
                    continue
                if remove_duplicate:
                    memo.add(value)
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(name, parameter)`` pairs with PyTorch's dotted names; a shared parameter once."""
        return self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def get_submodule(self, target: str) -> Module:
        """The descendant at a dotted path, e.g. ``"encoder.layers.0"``; ``""`` is this module."""
        if target == "":
            return self
        module = self
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def _get_member(self, target: str, kind: str, check: Callable[[Any], bool]):
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        value = getattr(module, name)
        if not check((module, name, value)):
            raise AttributeError(f"`{name}` is not {kind}")
        return value

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at a dotted path, e.g. ``"fc1.weight"``."""
        return self._get_member(target, "an nn.Parameter", lambda mnv: isinstance(mnv[2], Parameter))

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted path, e.g. ``"bn.running_mean"``."""
        return self._get_member(target, "a buffer", lambda mnv: mnv[1] in mnv[0]._buffers)

    # ================================================================ modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout drops, BatchNorm updates its statistics) here and below."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad``: drop it (default), or fill it with zeros."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                grad = param.grad
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                grad.array[...] = 0
                grad._version[0] += 1

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every child (recursively) and then on this module, e.g. to initialise weights."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ================================================================ moving and casting
    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> Module:
        """Replace every parameter's and buffer's data by ``fn(tensor)``, keeping Parameter objects."""
        if recurse:
            for module in self.children():
                module._apply(fn)
        with grad_mode.no_grad():
            for param in self._parameters.values():
                if param is None:
                    continue
                new = fn(param)
                if new.array is not param.array:
                    param.array = new.array
                    param._version[0] += 1
                if param.grad is not None:
                    new_grad = fn(param.grad)
                    if new_grad.array is not param.grad.array:
                        param.grad.array = new_grad.array
            for key, buf in self._buffers.items():
                if buf is not None:
                    self._buffers[key] = fn(buf)
        return self

    def to(self, *args, **kwargs) -> Module:
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``: move/cast in place."""
        from .. import dtypes
        from ..ops.conversion import _parse_to

        device, dtype, _ = _parse_to(None, args, dict(kwargs))
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype)
            if not dtype.is_floating_point:
                raise TypeError(
                    "nn.Module.to only accepts floating point or complex dtypes, "
                    f"but got desired dtype={dtype}"
                )

        def convert(t: Tensor) -> Tensor:
            return t.to(device, dtype if t.is_floating_point() else None)

        return self._apply(convert)

    def cuda(self, device=None) -> Module:
        return self._apply(lambda t: t.cuda(device))

    def cpu(self) -> Module:
        return self._apply(lambda t: t.cpu())

    def type(self, dst_type) -> Module:
        return self._apply(lambda t: t.to(dst_type))

    def _cast_floats(self, dtype) -> Module:
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self) -> Module:
        from .. import dtypes

        return self._cast_floats(dtypes.float32)

    def double(self) -> Module:
        from .. import dtypes

        return self._cast_floats(dtypes.float64)

    def half(self) -> Module:
        from .. import dtypes

        return self._cast_floats(dtypes.float16)

    def bfloat16(self) -> Module:
        from .. import dtypes

        return self._cast_floats(dtypes.bfloat16)

    # ================================================================ state dict
    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        """Put this module's own parameters and persistent buffers (not its children's) in ``destination``."""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + "_extra_state"] = self.get_extra_state()

    def state_dict(self, *, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict:
        """Every parameter and persistent buffer by dotted name, detached (unless ``keep_vars``)."""
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            result = hook(self, destination, prefix, {})
            if result is not None:
                destination = result
        return destination

    def get_extra_state(self) -> Any:
        """Override (with ``set_extra_state``) to save extra non-tensor state under ``"_extra_state"``."""
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called; "
            "override get_extra_state() and set_extra_state() together"
        )

    def set_extra_state(self, state: Any) -> None:
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called; "
            "override get_extra_state() and set_extra_state() together"
        )

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict, strict: bool,
                              missing_keys: list, unexpected_keys: list, error_msgs: list) -> None:
        """Copy this module's own entries from ``state_dict``; layers override it for legacy keys.

        Record problems in the three lists rather than raising, so that one load
        reports every problem at once.
        """
        persistent = ((k, v) for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set)
        members = itertools.chain(self._parameters.items(), persistent)
        local_state = {k: v for k, v in members if v is not None}
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, current in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if isinstance(value, np.ndarray):
                value = Tensor(value)
            if not isinstance(value, Tensor):
                error_msgs.append(
                    f'While copying the parameter named "{key}", expected nbframe.Tensor or a NumPy array '
                    f"from checkpoint but received {type(value)}"
                )
                continue
            if value.shape != current.shape:
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {value.shape} from checkpoint, "
                    f"the shape in current model is {current.shape}."
                )
                continue
            try:
                with grad_mode.no_grad():
                    if assign:
                        self._assign_loaded(name, current, value)
                    else:
                        current.copy_(value)
            except Exception as error:  # reported with the key, like PyTorch
                error_msgs.append(
                    f'While copying the parameter named "{key}", whose dimensions in the model are '
                    f"{current.shape} and whose dimensions in the checkpoint are {value.shape}, "
                    f"an exception occurred : {error.args}."
                )
        extra_key = prefix + "_extra_state"
        has_extra = type(self).set_extra_state is not Module.set_extra_state
        if has_extra:
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and not (has_extra and key == extra_key):
                    first = key[len(prefix):].split(".", 1)[0]
                    if first not in self._modules and first not in local_state:
                        unexpected_keys.append(key)

    def _assign_loaded(self, name: str, current: Tensor, value: Tensor) -> None:
        if name in self._parameters:
            self._parameters[name] = Parameter(value, requires_grad=current.requires_grad)
        else:
            self._buffers[name] = value

    def load_state_dict(self, state_dict: Mapping, strict: bool = True, assign: bool = False):
        """Copy parameters and buffers from ``state_dict`` into this module, matching by name.

        With ``strict`` (default), missing or unexpected keys are an error. Returns
        ``(missing_keys, unexpected_keys)`` as a named tuple. A shape mismatch is
        reported with the key and both shapes.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        missing_keys: list = []
        unexpected_keys: list = []
        error_msgs: list = []

        def load(module: Module, local_state: dict, prefix: str = "") -> None:
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                local_metadata["assign_to_params_buffers"] = True
            module._load_from_state_dict(local_state, prefix, local_metadata, True, missing_keys,
                                         unexpected_keys, error_msgs)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    child_state = {k: v for k, v in local_state.items() if k.startswith(child_prefix)}
                    load(child, child_state, child_prefix)
            incompatible = _IncompatibleKeys(missing_keys, unexpected_keys)
            for hook in module._load_state_dict_post_hooks.values():
                hook(module, incompatible)

        load(self, state_dict)
        if strict:
            if unexpected_keys:
                error_msgs.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected_keys)))
            if missing_keys:
                error_msgs.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing_keys)))
        if error_msgs:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(error_msgs)))
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    def register_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata)`` after this module's ``state_dict``."""
        return _add_hook(self._state_dict_hooks, hook, False)

    def register_load_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, incompatible_keys)`` after ``load_state_dict`` has loaded this module."""
        return _add_hook(self._load_state_dict_post_hooks, hook, False)

    # ================================================================ hooks
    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args)`` (or ``hook(module, args, kwargs)``) before forward; may return new args."""
        handle = _add_hook(self._forward_pre_hooks, hook, prepend, self._forward_pre_hooks_with_kwargs)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        return handle

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """``hook(module, args, output)`` (or with kwargs) after forward; may return a new output."""
        handle = _add_hook(self._forward_hooks, hook, prepend, self._forward_hooks_with_kwargs,
                           self._forward_hooks_always_called)
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        return handle

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` once the gradients w.r.t. the module's inputs are known.

        ``grad_input`` holds one entry per positional Tensor input (None where the input
        needs no gradient); a returned tuple replaces it.
        """
        return _add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_output)`` before the module's gradients are computed; may return new ones."""
        return _add_hook(self._backward_pre_hooks, hook, prepend)

    def register_backward_hook(self, hook: Callable) -> RemovableHandle:
        raise NotImplementedError(
            "Module.register_backward_hook (deprecated in PyTorch) is not supported; "
            "use register_full_backward_hook"
        )

    # ================================================================ repr
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in its repr; layers override it."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2) for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


def _plain(buffer: Buffer) -> Tensor:
    """The ordinary Tensor a ``Buffer`` marker stands for (same array and version counter)."""
    t = Tensor(buffer.array)
    t._version = buffer._version
    return t


def _remove_from(module: Module, name: str, *stores) -> None:
    for store in stores:
        if name in store:
            del store[name]
    module.__dict__["_non_persistent_buffers_set"].discard(name)


# ==================================================================== full backward hooks
class _HookIdentity(Function):
    """An identity node put around a module's inputs or outputs, for its backward hooks to attach to."""

    label = "backward_hook"

    @staticmethod
    def forward(ctx, *tensors):
        return tensors if len(tensors) > 1 else tensors[0]

    @staticmethod
    def backward(ctx, *grads):
        return grads if len(grads) > 1 else grads[0]


class _BackwardHook:
    """PyTorch's full backward hooks, built from two identity nodes in the graph.

    The node around the outputs sees ``grad_output`` (and runs the backward
    pre-hooks); the node around the inputs sees ``grad_input`` and then calls the
    hooks with both. When no input needs a gradient the hooks run from the
    output node with ``grad_input`` all None, as in PyTorch.
    """

    def __init__(self, module: Module):
        self.module = module
        self.grad_output = None
        self.n_inputs = 0
        self.input_node = None

    def _hooks(self):
        return itertools.chain(_global_backward_hooks.values(), self.module._backward_hooks.values())

    def _call_hooks(self, grad_input: tuple) -> tuple | None:
        replaced = None
        for hook in self._hooks():
            result = hook(self.module, grad_input if replaced is None else replaced, self.grad_output)
            if result is not None:
                result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                if len(result) != len(grad_input):
                    raise RuntimeError(
                        f"Backward hook returned an invalid number of grad_input, got {len(result)}, "
                        f"but expected {len(grad_input)}"
                    )
                replaced = result
        return replaced

    def wrap_inputs(self, args: tuple) -> tuple:
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(positions)
        wanted = [i for i in positions if args[i].requires_grad]
        if not wanted:
            return args
        wrapped = _HookIdentity.apply(*(args[i] for i in wanted))
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        self.input_node = wrapped[0].grad_fn
        slots = [positions.index(i) for i in wanted]

        def on_input_grads(grad_inputs, grad_outputs):
            full = [None] * self.n_inputs
            for slot, grad in zip(slots, grad_outputs):
                full[slot] = grad
            replaced = self._call_hooks(tuple(full))
            if replaced is None:
                return None
            return tuple(replaced[slot] for slot in slots)

        self.input_node.register_hook(on_input_grads)
        args = list(args)
        for i, t in zip(wanted, wrapped):
            args[i] = t
        return tuple(args)

    def wrap_outputs(self, output):
        single = isinstance(output, Tensor)
        outputs = (output,) if single else output
        if not isinstance(outputs, tuple):
            return output  # a dict or other structure: only tensor and tuple outputs are hooked
        wanted = [i for i, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]
        if not wanted:
            return output
        wrapped = _HookIdentity.apply(*(outputs[i] for i in wanted))
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        node = wrapped[0].grad_fn
        n_outputs = sum(isinstance(o, Tensor) for o in outputs)
        slots = [sum(isinstance(o, Tensor) for o in outputs[:i]) for i in wanted]

        def on_output_grads(grad_outputs):
            full = [None] * n_outputs
            for slot, grad in zip(slots, grad_outputs):
                full[slot] = grad
            for hook in self.module._backward_pre_hooks.values():
                result = hook(self.module, tuple(full))
                if result is not None:
                    full = list(result) if isinstance(result, (tuple, list)) else [result]
            self.grad_output = tuple(full)
            if self.input_node is None:
                self._call_hooks((None,) * max(self.n_inputs, 1))
            return tuple(full[slot] for slot in slots)

        node.register_prehook(on_output_grads)
        if single:
            return wrapped[0]
        result = list(outputs)
        for i, t in zip(wanted, wrapped):
            result[i] = t
        return tuple(result)
