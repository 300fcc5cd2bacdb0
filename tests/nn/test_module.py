"""nn.Module and nn.Parameter: a tree built in both libraries names, prints and loads alike."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

import nbframe as nf
from nbframe.nn.module import register_module_forward_hook

torch = pytest.importorskip("torch")


def build(m):
    """A small tree with every kind of member, written once for nbframe (m=nf) and PyTorch (m=torch)."""
    nn = m.nn

    class Affine(nn.Module):
        def __init__(self, n_in, n_out, bias=True):
            super().__init__()
            self.weight = nn.Parameter(m.tensor(np.arange(n_out * n_in, dtype=np.float32).reshape(n_out, n_in)
                                                / 10))
            if bias:
                self.bias = nn.Parameter(m.zeros(n_out))
            else:
                self.register_parameter("bias", None)

        def forward(self, x):
            y = x @ self.weight.T
            return y if self.bias is None else y + self.bias

        def extra_repr(self):
            return f"in_features={self.weight.shape[1]}, out_features={self.weight.shape[0]}"

    class Stats(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.register_buffer("running_mean", m.zeros(n))
            self.register_buffer("num_batches_tracked", m.tensor(0, dtype=m.int64))
            self.register_buffer("scratch", m.ones(n), persistent=False)

        def forward(self, x):
            return x - self.running_mean

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(Affine(3, 4), Stats(4), Affine(4, 4, bias=False))
            self.heads = nn.ModuleList([Affine(4, 2), Affine(4, 2)])
            self.named = nn.ModuleDict({"b": Stats(2), "a": Affine(2, 1)})
            self.scales = nn.ParameterList([nn.Parameter(m.ones(2)), nn.Parameter(m.ones(3))])
            self.shared = self.body[0]  # the same module twice
            self.gate = nn.Parameter(m.ones(1))
            self.empty = None
            self.register_module("nothing", None)

        def forward(self, x):
            h = self.body(x)
            return self.heads[0](h) + self.heads[1](h)

    return Net()


@pytest.fixture
def nets():
    return build(nf), build(torch)


def test_named_parameters_match_pytorch(nets):
    ours, theirs = nets
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert ([k for k, _ in ours.named_parameters(remove_duplicate=False)]
            == [k for k, _ in theirs.named_parameters(remove_duplicate=False)])
    assert ([k for k, _ in ours.named_parameters(prefix="model", recurse=False)]
            == [k for k, _ in theirs.named_parameters(prefix="model", recurse=False)])
    assert all(isinstance(p, nf.nn.Parameter) for p in ours.parameters())


def test_named_buffers_modules_children_match_pytorch(nets):
    ours, theirs = nets
    assert [k for k, _ in ours.named_buffers()] == [k for k, _ in theirs.named_buffers()]
    assert [k for k, _ in ours.named_modules()] == [k for k, _ in theirs.named_modules()]
    assert ([k for k, _ in ours.named_modules(remove_duplicate=False)]
            == [k for k, _ in theirs.named_modules(remove_duplicate=False)])
    assert [k for k, _ in ours.named_children()] == [k for k, _ in theirs.named_children()]
    assert len(list(ours.modules())) == len(list(theirs.modules()))


def test_state_dict_keys_match_pytorch(nets):
    ours, theirs = nets
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "body.1.scratch" not in ours.state_dict()  # non-persistent buffer


def test_repr_matches_pytorch(nets):
    ours, theirs = nets
    assert repr(ours) == repr(theirs).replace("torch.", "nbframe.")


def test_state_dict_values_are_detached_unless_keep_vars(nets):
    ours, _ = nets
    sd = ours.state_dict()
    assert not sd["gate"].requires_grad and not isinstance(sd["gate"], nf.nn.Parameter)
    assert np.shares_memory(sd["gate"].array, ours.gate.array)
    assert ours.state_dict(keep_vars=True)["gate"] is ours.gate


def test_weights_port_from_pytorch_through_numpy(nets):
    ours, theirs = nets
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape))
        theirs.body[1].running_mean.fill_(0.5)
    result = ours.load_state_dict({k: nf.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    x = np.random.randn(5, 3).astype(np.float32)
    np.testing.assert_allclose(ours(nf.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    # NumPy arrays are accepted directly as well
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})


def test_load_state_dict_copies_in_place_keeping_parameter_objects(nets):
    ours, _ = nets
    weight = ours.body[0].weight
    sd = {k: v.clone() * 0 + 2 for k, v in ours.state_dict().items()}
    ours.load_state_dict(sd)
    assert ours.body[0].weight is weight
    assert float(weight.detach().sum()) == 2 * weight.numel()
    assert ours.body[0].weight.requires_grad


def test_load_state_dict_recovers_a_diverged_model():
    model = nf.nn.Module()
    model.weight = nf.nn.Parameter(nf.tensor([float("nan"), float("inf")]))
    model.load_state_dict({"weight": nf.tensor([1.0, 2.0])})
    assert model.weight.tolist() == [1.0, 2.0]


def test_load_state_dict_strict_reports_missing_and_unexpected_like_pytorch(nets):
    ours, theirs = nets
    sd_ours = ours.state_dict()
    sd_theirs = theirs.state_dict()
    for sd in (sd_ours, sd_theirs):
        del sd["heads.1.weight"]
        sd["heads.7.weight"] = sd["gate"]
        sd["bogus"] = sd["gate"]
    with pytest.raises(RuntimeError) as ours_error:
        ours.load_state_dict(sd_ours)
    with pytest.raises(RuntimeError) as theirs_error:
        theirs.load_state_dict(sd_theirs)
    assert str(ours_error.value) == str(theirs_error.value)
    ours_keys = ours.load_state_dict(sd_ours, strict=False)
    theirs_keys = theirs.load_state_dict(sd_theirs, strict=False)
    assert ours_keys.missing_keys == theirs_keys.missing_keys == ["heads.1.weight"]
    assert ours_keys.unexpected_keys == theirs_keys.unexpected_keys


def test_load_state_dict_shape_mismatch_names_key_and_both_shapes(nets):
    ours, _ = nets
    sd = ours.state_dict()
    sd["heads.0.weight"] = nf.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"size mismatch for heads\.0\.weight: copying a param with shape "
                       r"nbframe\.Size\(\[3, 4\]\) from checkpoint, the shape in current model is "
                       r"nbframe\.Size\(\[2, 4\]\)"):
        ours.load_state_dict(sd)
    with pytest.raises(TypeError, match="dict-like"):
        ours.load_state_dict([1, 2])


def test_load_from_state_dict_hook_point_renames_legacy_keys():
    class Layer(nf.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nf.nn.Parameter(nf.zeros(2))

        def _load_from_state_dict(self, state_dict, prefix, *args):
            if prefix + "w" in state_dict:
                state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")
            super()._load_from_state_dict(state_dict, prefix, *args)

    model = nf.nn.Sequential(Layer())
    model.load_state_dict({"0.w": nf.ones(2)})
    assert model[0].weight.tolist() == [1.0, 1.0]


def test_load_state_dict_assign_replaces_tensors():
    layer = nf.nn.Module()
    layer.weight = nf.nn.Parameter(nf.zeros(2))
    new = nf.ones(2, dtype=nf.float64)
    layer.load_state_dict({"weight": new}, assign=True)
    assert isinstance(layer.weight, nf.nn.Parameter) and layer.weight.dtype == nf.float64
    assert layer.weight.requires_grad


def test_extra_state_round_trips():
    class WithExtra(nf.nn.Module):
        def __init__(self):
            super().__init__()
            self.note = "a"

        def get_extra_state(self):
            return {"note": self.note}

        def set_extra_state(self, state):
            self.note = state["note"]

    a, b = WithExtra(), WithExtra()
    a.note = "changed"
    assert list(a.state_dict()) == ["_extra_state"]
    b.load_state_dict(a.state_dict())
    assert b.note == "changed"


def test_getattr_error_matches_pytorch(nets):
    ours, theirs = nets
    with pytest.raises(AttributeError) as ours_error:
        ours.body[0].foo
    with pytest.raises(AttributeError) as theirs_error:
        theirs.body[0].foo
    assert str(ours_error.value) == str(theirs_error.value) == "'Affine' object has no attribute 'foo'"


def test_setattr_registers_and_moves_between_kinds():
    module = nf.nn.Module()
    module.register_buffer("x", nf.zeros(1))
    module.x = nf.nn.Parameter(nf.zeros(1))  # a Parameter replaces the buffer
    assert "x" in module._parameters and "x" not in module._buffers
    module.x = None
    assert module.x is None and "x" in module._parameters
    module.sub = nf.nn.Module()
    assert "sub" in module._modules
    module.register_buffer("y", nf.zeros(1))
    module.y = nf.ones(1)  # assigning a Tensor to a buffer name updates the buffer
    assert module._buffers["y"].tolist() == [1.0]
    module.z = nf.nn.Buffer(nf.zeros(2), persistent=False)
    assert "z" in module._buffers and "z" not in module.state_dict()
    assert type(module.z) is nf.Tensor
    del module.x, module.y, module.sub
    assert not module._parameters and "y" not in module._buffers and not module._modules
    module.x = 3
    assert module.x == 3 and "x" in module.__dict__


def test_setattr_errors_match_pytorch():
    def errors(m):
        out = []
        module = m.nn.Module()
        module.w = m.nn.Parameter(m.zeros(1))
        module.c = m.nn.Module()
        module.register_buffer("b", m.zeros(1))
        for action in (lambda: setattr(module, "w", m.zeros(1)),
                       lambda: setattr(module, "w", m.nn.Module()),
                       lambda: setattr(module, "c", 3),
                       lambda: setattr(module, "b", 3),
                       lambda: module.register_buffer("a.b", m.zeros(1)),
                       lambda: module.register_buffer("", m.zeros(1)),
                       lambda: module.register_buffer(3, m.zeros(1)),
                       lambda: module.register_parameter("training", m.nn.Parameter(m.zeros(1))),
                       lambda: module.register_parameter("p", m.zeros(1)),
                       lambda: module.add_module("a.b", m.nn.Module()),
                       lambda: module.add_module("k", 3),
                       lambda: module.register_buffer("q", 3)):
            with pytest.raises(Exception) as error:
                action()
            message = str(error.value).replace("torch", "nbframe").replace("nn.modules.module", "nn.module")
            out.append((type(error.value), message))
        return out

    assert errors(nf) == errors(torch)


def test_assigning_before_init_is_a_clear_error():
    class Early(nf.nn.Module):
        def __init__(self):
            self.w = nf.nn.Parameter(nf.zeros(1))
            super().__init__()

    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__\(\) call"):
        Early()


def test_non_leaf_parameter_is_refused():
    module = nf.nn.Module()
    p = nf.nn.Parameter(nf.zeros(1))
    p.grad_fn = object()
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'w'"):
        module.register_parameter("w", p)


def test_get_submodule_parameter_buffer_and_errors_match_pytorch(nets):
    ours, theirs = nets
    assert ours.get_submodule("body.0") is ours.body[0]
    assert ours.get_submodule("") is ours
    assert ours.get_parameter("heads.1.bias") is ours.heads[1].bias
    assert ours.get_buffer("body.1.running_mean") is ours.body[1].running_mean
    for target, getter in (("body.9", "get_submodule"), ("gate.x", "get_submodule"),
                           ("body.0.nope", "get_parameter"), ("body.1.running_mean", "get_parameter"),
                           ("gate", "get_buffer")):
        with pytest.raises(AttributeError) as ours_error:
            getattr(ours, getter)(target)
        with pytest.raises(AttributeError) as theirs_error:
            getattr(theirs, getter)(target)
        assert str(ours_error.value) == str(theirs_error.value)


def test_train_eval_propagate(nets):
    ours, _ = nets
    assert ours.training and ours.body[1].training
    assert ours.eval() is ours
    assert not any(m.training for m in ours.modules())
    ours.train()
    assert all(m.training for m in ours.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        ours.train("yes")


def test_requires_grad_and_zero_grad(nets):
    ours, _ = nets
    ours(nf.randn(2, 3)).sum().backward()
    assert ours.body[0].weight.grad is not None
    ours.zero_grad(set_to_none=False)
    assert float(ours.body[0].weight.grad.abs().sum()) == 0.0
    ours.zero_grad()
    assert all(p.grad is None for p in ours.parameters())
    ours.requires_grad_(False)
    assert not any(p.requires_grad for p in ours.parameters())


def test_apply_visits_children_first_like_pytorch(nets):
    ours, theirs = nets
    seen_ours, seen_theirs = [], []
    ours.apply(lambda m: seen_ours.append(type(m).__name__))
    theirs.apply(lambda m: seen_theirs.append(type(m).__name__))
    assert seen_ours == seen_theirs


def test_to_double_keeps_parameter_identity_and_integer_buffers(nets):
    ours, _ = nets
    weight = ours.body[0].weight
    ours(nf.randn(2, 3)).sum().backward()
    assert ours.double() is ours
    assert ours.body[0].weight is weight and weight.dtype == nf.float64 and weight.requires_grad
    assert weight.grad.dtype == nf.float64
    assert ours.body[1].running_mean.dtype == nf.float64
    assert ours.body[1].num_batches_tracked.dtype == nf.int64
    ours.to(nf.float32)
    assert weight.dtype == nf.float32
    ours.half()
    assert weight.dtype == nf.float16
    ours.to("cpu", dtype=nf.float32).cpu().float()
    assert weight.dtype == nf.float32
    with pytest.raises(TypeError, match="only accepts floating point"):
        ours.to(nf.int64)


def test_forward_pre_hook_and_forward_hook_change_inputs_and_outputs():
    layer = nf.nn.Flatten()
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    post = layer.register_forward_hook(lambda m, args, out: out + 1)
    layer.register_forward_hook(lambda m, args, out: calls.append("first"), prepend=True)
    out = layer(nf.ones(1, 2))
    assert out.tolist() == [[3.0, 3.0]] and calls == ["first"]
    pre.remove()
    post.remove()
    assert layer(nf.ones(1, 2)).tolist() == [[1.0, 1.0]]


def test_hooks_with_kwargs():
    class Scale(nf.nn.Module):
        def forward(self, x, *, factor=1.0):
            return x * factor

    layer = Scale()
    layer.register_forward_pre_hook(lambda m, args, kwargs: (args, {"factor": 3.0}), with_kwargs=True)
    seen = {}
    layer.register_forward_hook(lambda m, args, kwargs, out: seen.update(kwargs), with_kwargs=True)
    assert layer(nf.ones(1)).tolist() == [3.0]
    assert seen == {"factor": 3.0}


def test_always_call_forward_hook_runs_when_forward_raises():
    class Broken(nf.nn.Module):
        def forward(self, x):
            raise ValueError("bad input")

    layer = Broken()
    seen = []
    layer.register_forward_hook(lambda m, args, out: seen.append("always"), always_call=True)
    layer.register_forward_hook(lambda m, args, out: seen.append("normal"))
    with pytest.raises(ValueError, match="bad input"):
        layer(1)
    assert seen == ["always"]


def test_global_forward_hook_sees_every_module(nets):
    ours, _ = nets
    names = []
    with register_module_forward_hook(lambda m, args, out: names.append(type(m).__name__)):
        ours(nf.randn(2, 3))
    assert names == ["Affine", "Stats", "Affine", "Sequential", "Affine", "Affine", "Net"]
    names.clear()
    ours(nf.randn(2, 3))
    assert names == []


def _hooked(m, x_requires_grad=True):
    layer = build(m).heads[0]
    record = {}

    def hook(module, grad_input, grad_output):
        record["grad_input"] = [None if g is None else g.detach().numpy().copy() for g in grad_input]
        record["grad_output"] = [g.detach().numpy().copy() for g in grad_output]

    layer.register_full_backward_hook(hook)
    x = m.tensor(np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4), requires_grad=x_requires_grad)
    (layer(x) * m.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    return record, x


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
@pytest.mark.parametrize("x_requires_grad", [True, False])
def test_full_backward_hook_sees_pytorchs_grad_input_and_grad_output(x_requires_grad):
    (ours, _), (theirs, _) = _hooked(nf, x_requires_grad), _hooked(torch, x_requires_grad)
    assert len(ours["grad_input"]) == len(theirs["grad_input"])
    for a, b in zip(ours["grad_input"] + ours["grad_output"], theirs["grad_input"] + theirs["grad_output"]):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6)


def test_full_backward_hook_can_replace_grad_input_and_pre_hook_grad_output():
    layer = nf.nn.Flatten()
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0] * 10,))
    x = nf.ones(2, 2, requires_grad=True)
    layer(x).sum().backward()
    assert x.grad.tolist() == [[10.0, 10.0], [10.0, 10.0]]
    layer = nf.nn.Flatten()
    layer.register_full_backward_pre_hook(lambda m, go: (go[0] * 3,))
    x = nf.ones(2, 2, requires_grad=True)
    layer(x).sum().backward()
    assert x.grad.tolist() == [[3.0, 3.0], [3.0, 3.0]]


def test_missing_forward_is_pytorchs_error():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required "forward"'):
        nf.nn.Module()(1)


def test_init_refuses_arguments():
    with pytest.raises(TypeError, match="unexpected arguments"):
        nf.nn.Module(3)


def test_dir_lists_members(nets):
    ours, _ = nets
    names = dir(ours)
    assert {"body", "gate", "heads", "forward", "training"} <= set(names)
    assert "0" not in dir(ours.body)


def test_deepcopy_makes_independent_weights_and_keeps_ties(nets):
    ours, _ = nets
    twin = copy.deepcopy(ours)
    assert twin.shared is twin.body[0] and twin.body[0] is not ours.body[0]
    assert isinstance(twin.gate, nf.nn.Parameter) and twin.gate.requires_grad
    twin.gate.data.fill_(5.0)
    assert ours.gate.tolist() == [1.0]


def test_parameter_is_a_tensor_requiring_grad_with_pytorchs_repr():
    p = nf.nn.Parameter(nf.tensor([1.0, 2.0]))
    assert isinstance(p, nf.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    frozen = nf.nn.Parameter(nf.zeros(2), requires_grad=False)
    assert not frozen.requires_grad
    base = nf.zeros(3)
    shared = nf.nn.Parameter(base)
    base.add_(1)
    assert shared.tolist() == [1.0, 1.0, 1.0]
    assert nf.nn.Parameter().shape == (0,)
    with pytest.raises(TypeError, match="must be a Tensor"):
        nf.nn.Parameter([1.0])


def test_parameter_ops_give_plain_tensors():
    p = nf.nn.Parameter(nf.ones(2))
    out = p * 2
    assert type(out) is nf.Tensor and out.grad_fn is not None


def test_call_without_hooks_goes_straight_to_forward():
    calls = []

    class Probe(nf.nn.Module):
        def forward(self, x):
            calls.append(x)
            return x

    assert Probe()(7) == 7 and calls == [7]


def test_sequential_of_ordered_dict_names_state_dict_like_pytorch():
    ours = nf.nn.Sequential(OrderedDict(flat=nf.nn.Flatten(), stats=build(nf).body[1]))
    theirs = torch.nn.Sequential(OrderedDict(flat=torch.nn.Flatten(), stats=build(torch).body[1]))
    assert list(ours.state_dict()) == list(theirs.state_dict())
