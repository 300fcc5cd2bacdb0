"""Graph nodes: ``Op`` (our ops, forward on raw arrays) and ``Function`` (PyTorch's, forward on Tensors).

An op is one class with a ``forward`` and a ``backward`` (Chainer's FunctionNode).
The instance made for a call is both the ``ctx`` its two methods share and,
when a gradient is needed, the output's ``grad_fn``: the node of the graph.

- ``Op.forward(ctx, *args)`` receives NumPy/CuPy arrays where the caller passed
  Tensors, and returns an array or a tuple of arrays.
- ``backward(ctx, *grads)`` receives Tensors and returns one gradient (a Tensor
  or None) per positional argument of forward. It is written with Tensor ops,
  so ``create_graph=True`` differentiates it again.

``ctx.save_for_backward`` keeps inputs and outputs with their version, so that
a backward through a tensor changed in place since raises PyTorch's error
instead of returning a wrong gradient.
"""

from __future__ import annotations

from ..backend import get_array_module
from . import grad_mode, observers

_state = grad_mode._state
_OBSERVERS = observers.OBSERVERS
_Tensor = None  # nbframe.tensor.Tensor and its fast constructor, bound by tensor.py (import cycle)
_wrap = None


def _note_view(node, base, view) -> None:
    """Told of every view recorded in a graph; nbframe.ops.inplace replaces it (its ``note_view``)."""


def _note_untracked_view(node, base, views) -> None:
    """Told of every view made outside a graph (``views``: one Tensor, or a tuple from unbind/split);
    nbframe.ops.inplace replaces it (its ``note_untracked_view``)."""


def bind_tensor(tensor_class, wrap) -> None:
    global _Tensor, _wrap
    _Tensor, _wrap = tensor_class, wrap


_new = object.__new__

_PLAIN = (int, float, bool, str, tuple, type(None))
_np = __import__("numpy")
_np_generic = _np.generic
_ndarray = _np.ndarray

# Saved-value kinds
_INPUT, _OUTPUT, _OTHER = 0, 1, 2
_SAVED_NONE = (_OTHER, None, None, None)  # shared: a saved None needs no tuple of its own
#: needs_input_grad of a recorded call where only the first of 1 + n arguments needs a gradient (shared
#: tuples: never changed)
_NEEDS_FIRST = [(True,) + (False,) * n for n in range(8)]


class Node:
    """What ``Op`` and ``Function`` share: graph edges, saved values, hooks, PyTorch's names.

    Fields start as class-level defaults, so making a node costs one object
    allocation; an instance only stores what differs.
    """

    next_edges = None
    needs_input_grad = (False,) * 16
    _saved = None
    _to_save = None
    _outputs_meta = ()
    _n_outputs = 1
    _non_differentiable = ()
    _pre_hooks = None
    _hooks = None
    _freed = False
    _trace = None
    _materialize = True
    _tensor_hooks = None
    #: How many recorded ops took one of this node's outputs as an input (counted as the edges are made,
    #: undone for a call with no differentiable output). Plain ``loss.backward()`` runs a node once that
    #: many gradients have arrived, with no counting pass over the graph first; a consumer the loss does
    #: not reach (a metric, a discarded result) leaves the count short, and the engine then counts the
    #: rest of the graph itself (``engine.run_backward_arrays``). Never less than the real number.
    _uses = 0
    #: True while the engine may call ``backward`` directly: one output, no hooks, not freed.
    #: Whatever adds a hook, a second output or frees the node sets it False (saves ~6 checks a node).
    _plain = True
    #: True for ops whose forward keeps nothing on ctx but ``save_for_backward``'s values and small
    #: metadata (shapes, dims, flags): freeing such a node after backward only drops its saved values,
    #: without materialising and clearing its ``__dict__`` (about 1.4k instructions a node less).
    _small_ctx = False
    #: True for ops whose outputs are views of their first argument: they share its version counter.
    #: ``forward`` may set ``ctx._is_view`` per call (``reshape`` is a view only when no copy is made).
    _is_view = False
    #: Optional ``backward_arrays(ctx, grad_array)``: ``backward`` on raw arrays, returning arrays (or None)
    #: per input. Plain ``loss.backward()`` calls it instead of ``backward`` when nothing records or
    #: observes backward's ops (no create_graph, no observer, no anomaly mode): no Tensor per gradient.
    backward_arrays = None

    #: A short label for drawing and debugging (micrograd's ``_op``).
    label = "op"

    # --- what forward calls on ctx ---------------------------------------------------------
    def save_for_backward(self, *values) -> None:
        """Keep these inputs, outputs or other values for backward (``ctx.saved_tensors``)."""
        self._to_save = values

    def mark_non_differentiable(self, *outputs) -> None:
        """Outputs that never need a gradient (indices, masks)."""
        self._non_differentiable = outputs

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize = value

    # --- what backward calls on ctx --------------------------------------------------------
    @property
    def saved_tensors(self) -> tuple:
        saved = self._saved
        if saved is None:
            if self._freed:
                raise RuntimeError(
                    "Trying to backward through the graph a second time (or directly access saved "
                    "tensors after they have already been freed). Saved intermediate values of the "
                    "graph are freed when you call .backward() or autograd.grad(). Specify "
                    "retain_graph=True if you need to backward through the graph a second time or "
                    "if you need to access saved tensors after calling backward."
                )
            return ()
        out = []
        for entry in saved:
            kind, value, version_counter, version = entry
            if kind == _OTHER:
                out.append(value)
            elif kind == _INPUT and version_counter[0] == version:
                out.append(value)
            else:
                out.append(self._unpack(entry))
        return tuple(out)

    @property
    def saved_arrays(self) -> tuple:
        """``saved_tensors`` as raw arrays (plain values as they are), with the same version checks.

        For a backward's no-graph fast path: reading an output this way skips rebuilding its Tensor.
        """
        saved = self._saved
        if saved is None:
            return self.saved_tensors  # () when nothing was saved; raises when freed
        out = []
        for kind, value, version_counter, version in saved:
            if kind == _INPUT:
                if version_counter[0] != version:
                    self._unpack((kind, value, version_counter, version))  # raises the in-place error
                out.append(value.array)
            elif kind == _OUTPUT:
                if version_counter[0] != version:
                    self._unpack((kind, value, version_counter, version))
                out.append(value[0])
            else:
                out.append(value.array if isinstance(value, _Tensor) else value)
        return tuple(out)

    def _unpack(self, entry):
        kind, value, version_counter, version = entry
        if version_counter[0] != version:
            tensor = value if kind == _INPUT else None
            what = _describe(tensor, value[0] if kind == _OUTPUT else tensor.array)
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{what}], which is {self._which(entry)} of {self.name()}, is at "
                f"version {version_counter[0]}; expected version {version} instead. Hint: the "
                "operation that failed to compute its gradient saved this tensor; clone it before "
                "changing it in place (x = x.clone()), or use the out-of-place op."
            )
        if kind == _INPUT:
            return value
        # An output: rebuilt on demand so the node does not keep its own output alive (no cycle).
        data, output_nr = value
        return _wrap(data, True, self, output_nr, version_counter)

    def _which(self, entry) -> str:
        return "an input" if entry[0] == _INPUT else f"output {entry[1][1]}"

    def _release(self) -> None:
        """Free what backward needed (called by the engine unless retain_graph).

        Everything forward stored on the node goes, except the edges: a drawing of
        the graph after backward still needs them (as PyTorch keeps next_functions).
        """
        if self._small_ctx:
            self._saved = self._to_save = None
        else:
            d = self.__dict__
            edges = d.get("next_edges")
            d.clear()
            d["next_edges"] = edges
        self._freed = True
        self._plain = False

    # --- PyTorch's node API ----------------------------------------------------------------
    def name(self) -> str:
        return f"{type(self).__name__}Backward0"

    @property
    def next_functions(self) -> tuple:
        """((node, output_nr) or (AccumulateGrad-like leaf, 0) or (None, 0)) per input."""
        edges = self.next_edges or ()
        result = []
        for edge in edges:
            if edge is None:
                result.append((None, 0))
            elif isinstance(edge[0], Node):
                result.append(edge)
            else:
                result.append((AccumulateGrad(edge[0]), 0))
        return tuple(result)

    def register_hook(self, hook):
        """``hook(grad_inputs, grad_outputs)`` after this node's backward; may return new grad_inputs."""
        if self._hooks is None:
            self._hooks = []
        self._plain = False
        self._hooks.append(hook)
        return _RemovableHandle(self._hooks, hook)

    def register_prehook(self, hook):
        """``hook(grad_outputs)`` before this node's backward; may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._plain = False
        self._pre_hooks.append(hook)
        return _RemovableHandle(self._pre_hooks, hook)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    # --- helpers shared by Op.apply and Function.apply --------------------------------------
    def _finish(self, args, raw, edges, outputs):
        """Wrap raw output arrays as Tensors and wire this node into the graph (``edges``: per argument,
        where its gradient goes, or None)."""
        self.next_edges = edges
        if type(outputs) is not tuple:
            # One output (Function.apply; Op.apply does this case itself).
            diff = outputs.dtype.kind == "f" and not self._non_differentiable
            if not diff:
                _forget_uses(edges)
            # A view shares its base's version counter.
            result = _wrap(
                outputs, diff, self if diff else None, 0, args[0]._version if self._is_view else None
            )
            if self._to_save is not None:
                self._saved = self._resolve_saved(args, raw, (outputs,), (result,))
                self._to_save = None
            if _OBSERVERS:
                observers.notify(self, args, (result,))
            return result
        non_diff = self._non_differentiable
        version = args[0]._version if self._is_view else None
        results = []
        for i, out in enumerate(outputs):
            diff = _differentiable(out, non_diff)
            results.append(_wrap(out, diff, self if diff else None, i, version))
        results = tuple(results)
        if not any(result.grad_fn is not None for result in results):
            _forget_uses(edges)  # no gradient will ever come through this call
        self._n_outputs = len(outputs)
        self._plain = False
        self._outputs_meta = tuple((out.shape, out.dtype, get_array_module(out)) for out in outputs)
        if version is not None:  # views (unbind, split): their base, for in-place changes of them
            for result in results:  # (after _outputs_meta: note_view tells a multi-output node by it)
                if result.grad_fn is not None:
                    _note_view(self, args[0], result)
        if self._to_save is not None:
            self._saved = self._resolve_saved(args, raw, outputs, results)
            self._to_save = None
        if _OBSERVERS:
            observers.notify(self, args, results)
        return results

    def _resolve_saved(self, args, raw, outputs, results):
        """Turn what forward saved into entries that remember versions (see ``saved_tensors``).

        ``raw`` is what forward received: a saved input is found by identity among those arrays.
        """
        saved = []
        for value in self._to_save:
            if value is None or type(value) in _PLAIN:
                saved.append((_OTHER, value, None, None))
                continue
            i = 0
            for r in raw:
                if r is value or args[i] is value:
                    a = args[i]
                    if isinstance(a, _Tensor):
                        version = a._version
                        saved.append((_INPUT, a, version, version[0]))
                        break
                i += 1
            else:
                for i, out in enumerate(outputs):
                    if out is value:
                        version = results[i]._version
                        saved.append((_OUTPUT, (out, i), version, version[0]))
                        break
                else:
                    if isinstance(value, _Tensor):
                        saved.append((_INPUT, value, value._version, value._version[0]))
                    elif (
                        hasattr(value, "shape")
                        and hasattr(value, "dtype")
                        and not isinstance(value, _np_generic)
                    ):
                        saved.append((_OTHER, _wrap(value, False, None, 0), None, None))
                    else:
                        saved.append((_OTHER, value, None, None))
        return tuple(saved)


def on_arrays(op, *args):
    """``op``'s forward on raw arrays with a throwaway ctx: no graph, no Tensors. For a ``backward_arrays``
    that takes the same step as its Tensor ``backward``, which applies ``op`` (a backward op, Cat for
    Split, ...)."""
    return op.forward(_new(op), *args)


def wrap_gradients(result):
    """``backward_arrays``' result (an array, None, or a tuple of them) as Tensors without a graph.

    For an op's ``backward`` that delegates to its ``backward_arrays`` when nothing records or watches.
    """
    if type(result) is not tuple:
        return None if result is None else _wrap(result, False, None, 0)
    return tuple([None if g is None else _wrap(g, False, None, 0) for g in result])


def _forget_uses(edges) -> None:
    """Undo the use counts of a recorded call that has no differentiable output (argmax, a comparison)."""
    for edge in edges:
        if edge is not None and isinstance(edge[0], Node):
            edge[0]._uses -= 1


def _edge(tensor):
    """Where a gradient for ``tensor`` goes: its op's output slot, or the leaf itself."""
    fn = tensor.grad_fn
    return (fn, tensor._output_nr) if fn is not None else (tensor, 0)


def _differentiable(out, non_diff) -> bool:
    if non_diff:
        for nd in non_diff:
            if nd is out:
                return False
    return out.dtype.kind == "f"


def _describe(tensor, array) -> str:
    dtype = str(array.dtype)
    return f"nbframe.{dtype} tensor of shape {list(array.shape)}"


class Op(Node):
    """Base of nbframe's own ops: ``forward`` on arrays, ``backward`` on Tensors.

    Call an op with ``MyOp.apply(*args)``; Tensors among ``args`` reach forward
    as their arrays, everything else as it is.
    """

    __slots__ = ()

    @staticmethod
    def forward(ctx, *args):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        ctx = _new(cls)
        raw = list(args)
        edges = None
        enabled = _state.enabled
        # One pass over the arguments: arrays for forward and, while recording, the graph edges.
        i = 0
        for a in args:
            if isinstance(a, _Tensor):
                raw[i] = a.array
                if enabled and a.requires_grad:
                    if edges is None:
                        edges = [None] * len(args)
                        needs = [False] * len(args)
                    fn = a.grad_fn
                    if fn is not None:
                        edges[i] = (fn, a._output_nr)
                        fn._uses += 1
                    else:
                        edges[i] = (a, 0)
                    needs[i] = True
            i += 1
        if edges is not None:
            ctx.needs_input_grad = needs
            return ctx._recorded(args, raw, edges, cls.forward(ctx, *raw))
        # Not recording: no graph, no saved values; just compute and wrap.
        outputs = cls.forward(ctx, *raw)
        version = args[0]._version if ctx._is_view else None  # a view shares its base's version counter
        if type(outputs) is tuple:
            results = tuple([_wrap(out, False, None, 0, version) for out in outputs])
        else:
            results = _wrap(outputs, False, None, 0, version)
        if version is not None:
            _note_untracked_view(ctx, args[0], results)  # its base, for an in-place change that records
        if _OBSERVERS:
            observers.notify(ctx, args, results if type(results) is tuple else (results,))
        return results

    @classmethod
    def apply1(cls, x, *options):
        """``apply(x, *options)`` for ops whose only Tensor argument is the first (unary ops, reductions:
        ``relu``, ``sum``). ``options`` (dims, flags, dtypes) reach forward as they are, never unwrapped.

        The same result as ``apply`` otherwise, without its loop over every argument: about a quarter
        less bookkeeping for a recorded unary op.
        """
        if isinstance(x, _Tensor) and x.requires_grad and _state.enabled:
            ctx = _new(cls)
            array = x.array
            fn = x.grad_fn
            if fn is not None:
                edge = (fn, x._output_nr)
                fn._uses += 1
            else:
                edge = (x, 0)
            if not options:
                ctx.needs_input_grad = _NEEDS_FIRST[0]
                return ctx._recorded((x,), (array,), (edge,), cls.forward(ctx, array))
            # As apply: one edge and one needs_input_grad entry per argument.
            n = len(options)
            ctx.needs_input_grad = _NEEDS_FIRST[n] if n < 8 else (True,) + (False,) * n
            return ctx._recorded(
                (x, *options), (array, *options), (edge,) + (None,) * n, cls.forward(ctx, array, *options)
            )
        return cls.apply(x, *options)

    @classmethod
    def apply2(cls, a, b):
        """``apply(a, b)`` unrolled for two arguments, for Tensor's arithmetic operators.

        The same result as ``apply``; no argument tuple, loop or lists: about 0.5 µs less an op,
        a sixth of a tiny graph's forward.
        """
        fa = fb = None
        if isinstance(a, _Tensor):
            x = a.array
            fa = a.grad_fn
            ea = ((fa, a._output_nr) if fa is not None else (a, 0)) if a.requires_grad else None
        else:
            x, ea = a, None
        if isinstance(b, _Tensor):
            y = b.array
            fb = b.grad_fn
            eb = ((fb, b._output_nr) if fb is not None else (b, 0)) if b.requires_grad else None
        else:
            y, eb = b, None
        if (ea is None and eb is None) or not _state.enabled:
            return cls.apply(a, b)
        # (a Tensor with a grad_fn requires grad: its edge is in ea or eb)
        if fa is not None:
            fa._uses += 1
        if fb is not None:
            fb._uses += 1
        ctx = _new(cls)
        ctx.needs_input_grad = (ea is not None, eb is not None)
        return ctx._recorded((a, b), (x, y), [ea, eb], cls.forward(ctx, x, y))

    def _recorded(self, args, raw, edges, outputs):
        """Wire a recorded call into the graph (``apply``'s second half): wrap the outputs, keep what
        forward saved with its version, tell the observers. ``edges``: per argument, where its
        gradient goes, or None."""
        produced = outputs  # what forward returned: what it may also have saved
        if type(outputs) is not _ndarray:
            if type(outputs) is tuple:
                return self._finish(args, raw, edges, outputs)
            if isinstance(outputs, _np_generic):  # a NumPy scalar (a full reduction): a 0-d array
                outputs = _np.asarray(outputs)
        # One output, the common case: wired here rather than in _finish, and the Tensor made here
        # rather than by _wrap (a call less: this is every recorded op's path).
        self.next_edges = edges
        result = _new(_Tensor)
        result.array = outputs
        if outputs.dtype.kind == "f" and not self._non_differentiable:
            result.requires_grad = True
            result.grad_fn = self
        else:
            result.requires_grad = False
            result.grad_fn = None
            _forget_uses(edges)  # no gradient will ever come through this call
        result._output_nr = 0
        # A view shares its base's version counter.
        if self._is_view:
            result._version = version = args[0]._version
            if result.grad_fn is not None:
                _note_view(self, args[0], result)  # its base, for in-place changes of the view
        else:
            result._version = version = [0]
        to_save = self._to_save
        if to_save is not None:
            # _resolve_saved's common cases inlined (a saved None, Python number, Tensor input found by
            # identity, or the output): saves a call and two tuples per op, ~4% of a tiny training
            # step. Any other value (a new array, a Tensor from elsewhere) falls back to _resolve_saved.
            saved = []
            for value in to_save:
                if value is None:
                    saved.append(_SAVED_NONE)
                    continue
                # An input first: forward may return an input's own array, and that is still the input.
                i = 0
                for r in raw:
                    if r is value:
                        a = args[i]
                        if isinstance(a, _Tensor):
                            counter = a._version
                            saved.append((_INPUT, a, counter, counter[0]))
                            break
                    i += 1
                else:
                    if value is produced:
                        saved.append((_OUTPUT, (outputs, 0), version, version[0]))
                    elif type(value) in _PLAIN:
                        saved.append((_OTHER, value, None, None))
                    else:
                        saved = None
                        break
            # (_to_save stays: it holds nothing that _saved does not.)
            self._saved = (
                tuple(saved)
                if saved is not None
                else self._resolve_saved(args, raw, (produced,), (result,))
            )
        if _OBSERVERS:
            observers.notify(self, args, (result,))
        return result


class FunctionMeta(type):
    """Lets ``MyFunction.apply`` work without instantiating, as in PyTorch."""


class Function(Node, metaclass=FunctionMeta):
    """PyTorch's ``torch.autograd.Function``: subclass it, write static ``forward`` and ``backward``.

    ``forward(ctx, *args)`` receives Tensors and runs with gradients off;
    ``backward(ctx, *grad_outputs)`` returns one gradient per forward argument.
    """

    __slots__ = ()

    @staticmethod
    def forward(ctx, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass must define a static forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass must define a static backward(ctx, *grad_outputs)")

    @staticmethod
    def setup_context(ctx, inputs, output):  # pragma: no cover - optional
        return None

    @property
    def saved_tensors(self) -> tuple:
        return Node.saved_tensors.fget(self)

    def save_for_backward(self, *tensors) -> None:
        self._to_save = tensors

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = _new(cls)
        grad_on = _state.enabled
        needs = [grad_on and isinstance(a, _Tensor) and a.requires_grad for a in args]
        record = any(needs)
        ctx.needs_input_grad = tuple(needs)
        with grad_mode.no_grad():
            if _uses_setup_context(cls):
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        arrays = tuple(o.array if isinstance(o, _Tensor) else o for o in outs)
        non_diff = tuple(t.array if isinstance(t, _Tensor) else t for t in (ctx._non_differentiable or ()))
        ctx._non_differentiable = non_diff
        # Saved tensors that are forward's outputs must be recognised as outputs.
        if ctx._to_save is not None:
            ctx._to_save = tuple(
                t.array if isinstance(t, _Tensor) and any(t is o for o in outs) else t for t in ctx._to_save
            )
        tensor_arrays = tuple(a for a in arrays if a is not None and not isinstance(a, (int, float)))
        outputs = tensor_arrays if not single else tensor_arrays[0]
        if record:
            edges = [_edge(a) if n else None for a, n in zip(args, needs)]
            for edge in edges:
                if edge is not None and isinstance(edge[0], Node):
                    edge[0]._uses += 1
            raw = [a.array if isinstance(a, _Tensor) else a for a in args]
            return ctx._finish(args, raw, edges, outputs)
        if single:
            return _wrap(outputs, False, None, 0)
        return tuple(_wrap(o, False, None, 0) for o in outputs)

    def mark_dirty(self, *tensors) -> None:
        raise NotImplementedError("autograd.Function.mark_dirty (in-place custom functions) is not supported")


def _uses_setup_context(cls) -> bool:
    return cls.setup_context is not Function.setup_context


class AccumulateGrad:
    """The node PyTorch shows for a leaf in ``next_functions``; ``.variable`` is the leaf."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple:
        return ()


class _RemovableHandle:
    __slots__ = ("_list", "_item")

    def __init__(self, items: list, item):
        self._list, self._item = items, item

    def remove(self) -> None:
        try:
            self._list.remove(self._item)
        except ValueError:
            pass
