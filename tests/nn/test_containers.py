"""Containers and Flatten/Unflatten behave, name and print like PyTorch's."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import nbframe as nf

torch = pytest.importorskip("torch")


def layers(m, n=4):
    """Distinct parameter-holding layers (Flatten variants differ in their repr)."""
    return [m.nn.Flatten(i % 2, -1) for i in range(n)]


# ----------------------------------------------------------------------------- Sequential
def test_sequential_runs_layers_in_order():
    model = nf.nn.Sequential(nf.nn.Unflatten(1, (2, 3)), nf.nn.Flatten())
    assert model(nf.zeros(4, 6)).shape == (4, 6)
    assert nf.nn.Sequential()(5) == 5


def test_sequential_names_indexing_and_slicing_match_pytorch():
    for make in (lambda m: m.nn.Sequential(*layers(m)),
                 lambda m: m.nn.Sequential(OrderedDict((f"l{i}", x) for i, x in enumerate(layers(m))))):
        ours, theirs = make(nf), make(torch)
        assert [k for k, _ in ours.named_children()] == [k for k, _ in theirs.named_children()]
        assert repr(ours) == repr(theirs)
        assert repr(ours[-1]) == repr(theirs[-1])
        part, their_part = ours[1:3], theirs[1:3]
        assert isinstance(part, nf.nn.Sequential) and part[0] is ours[1]
        assert [k for k, _ in part.named_children()] == [k for k, _ in their_part.named_children()]
        assert len(ours) == 4 and list(ours) == [ours[i] for i in range(4)]


def test_sequential_index_out_of_range_is_pytorchs_error():
    with pytest.raises(IndexError, match="index 4 is out of range"):
        nf.nn.Sequential(*layers(nf))[4]
    with pytest.raises(IndexError, match="index -5 is out of range"):
        nf.nn.Sequential(*layers(nf))[-5]


def test_sequential_append_insert_extend_delete_like_pytorch():
    def edit(m):
        seq = m.nn.Sequential(*layers(m, 2))
        seq.append(m.nn.Flatten(0, 0))
        seq.insert(1, m.nn.Flatten(3, 3))
        seq.extend([m.nn.Flatten(5, 5)])
        del seq[0]
        seq[0] = m.nn.Flatten(7, 7)
        popped = seq.pop(1)
        seq = seq + m.nn.Sequential(m.nn.Flatten(8, 8))
        return repr(seq) + repr(popped) + repr(seq * 2)

    assert edit(nf) == edit(torch)
    del_slice = nf.nn.Sequential(*layers(nf))
    del del_slice[1:3]
    assert [k for k, _ in del_slice.named_children()] == ["0", "1"]


# ----------------------------------------------------------------------------- ModuleList
def test_module_list_registers_and_edits_like_pytorch():
    def edit(m):
        blocks = m.nn.ModuleList(layers(m, 3))
        blocks.append(m.nn.Flatten(9, 9))
        blocks.extend([m.nn.Flatten(8, 8)])
        blocks.insert(0, m.nn.Flatten(7, 7))
        blocks += [m.nn.Flatten(6, 6)]
        del blocks[2]
        blocks[-1] = m.nn.Flatten(5, 5)
        sliced = blocks[1:4]
        return repr(blocks), repr(sliced), [k for k, _ in blocks.named_children()], len(blocks)

    assert edit(nf) == edit(torch)


def test_module_list_repr_folds_repeated_layers_like_pytorch():
    for make in (lambda m: m.nn.ModuleList([m.nn.Flatten() for _ in range(3)] + [m.nn.Unflatten(1, (2, 2))]),
                 lambda m: m.nn.ModuleList(),
                 lambda m: m.nn.ModuleList([m.nn.Sequential(m.nn.Flatten()) for _ in range(2)])):
        assert repr(make(nf)) == repr(make(torch))


def test_module_list_errors():
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable, but got int"):
        nf.nn.ModuleList(3)
    with pytest.raises(IndexError, match="index 1 is out of range"):
        nf.nn.ModuleList([nf.nn.Flatten()])[1]
    with pytest.raises(TypeError, match="is not a Module subclass"):
        nf.nn.ModuleList([3])


def test_module_list_parameters_are_the_containers():
    blocks = nf.nn.ModuleList([nf.nn.ParameterList([nf.ones(2)]) for _ in range(2)])
    assert [k for k, _ in blocks.named_parameters()] == ["0.0", "1.0"]


# ----------------------------------------------------------------------------- ModuleDict
def test_module_dict_keeps_insertion_order_like_pytorch():
    def make(m):
        d = m.nn.ModuleDict({"b": m.nn.Flatten(), "a": m.nn.Flatten(0)})
        d.update([("c", m.nn.Flatten(2))])
        d["d"] = m.nn.Flatten(3)
        popped = d.pop("a")
        return repr(d), list(d.keys()), list(d), "b" in d, len(d), repr(popped), repr(list(d.values()))

    assert make(nf) == make(torch)


def test_module_dict_update_errors_match_pytorch():
    for bad, error in ((3, TypeError), ([3], TypeError), ([("a", 1, 2)], ValueError)):
        with pytest.raises(error) as ours:
            nf.nn.ModuleDict(bad)
        with pytest.raises(error) as theirs:
            torch.nn.ModuleDict(bad)
        assert str(ours.value).replace(" ", "") == str(theirs.value).replace(" ", "")


def test_module_dict_clear_items():
    d = nf.nn.ModuleDict({"x": nf.nn.Flatten()})
    assert [k for k, _ in d.items()] == ["x"]
    d.clear()
    assert len(d) == 0


# ----------------------------------------------------------------------------- ParameterList / Dict
def test_parameter_list_wraps_tensors_and_names_like_pytorch():
    def make(m):
        plist = m.nn.ParameterList([m.ones(2, 3), m.nn.Parameter(m.zeros(1))])
        plist.append(m.ones(4))
        plist.extend([m.zeros(5)])
        return plist

    ours, theirs = make(nf), make(torch)
    assert all(isinstance(p, nf.nn.Parameter) and p.requires_grad for p in ours)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs).replace("torch.", "nbframe.")
    assert len(ours[1:]) == 3 and ours[-1].shape == (5,)
    ours[0] = nf.zeros(1)
    assert isinstance(ours[0], nf.nn.Parameter) and ours[0].shape == (1,)
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        ours()


def test_parameter_dict_sorts_plain_dicts_and_names_like_pytorch():
    def make(m):
        pdict = m.nn.ParameterDict({"b": m.ones(2), "a": m.zeros(3)})
        pdict["c"] = m.nn.Parameter(m.ones(1))
        pdict.update(OrderedDict([("z", m.ones(1)), ("y", m.ones(1))]))
        return pdict

    ours, theirs = make(nf), make(torch)
    assert list(ours.keys()) == list(theirs.keys())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs).replace("torch.", "nbframe.")
    assert ours.pop("a").shape == (3,) and "a" not in ours
    assert ours.get("missing", 7) == 7
    assert ours.setdefault("d", nf.zeros(2)).shape == (2,)
    assert list((ours | nf.nn.ParameterDict({"e": nf.ones(1)})).keys())[-1] == "e"
    key, value = ours.popitem()
    assert key == "d" and value.shape == (2,)
    with pytest.raises(TypeError, match="not a string"):
        ours[3] = nf.ones(1)
    with pytest.raises(RuntimeError, match="ParameterDict should not be called."):
        ours()


def test_parameter_containers_feed_gradients():
    plist = nf.nn.ParameterList([nf.ones(2)])
    (plist[0] * 3).sum().backward()
    assert plist[0].grad.tolist() == [3.0, 3.0]


# ----------------------------------------------------------------------------- Flatten / Unflatten
@pytest.mark.parametrize("args, shape", [((), (2, 3, 4, 5)), ((0,), (2, 3, 4)), ((1, 2), (2, 3, 4, 5)),
                                         ((-3, -2), (2, 3, 4, 5))])
def test_flatten_matches_pytorch(args, shape):
    x = np.random.randn(*shape).astype(np.float32)
    ours = nf.nn.Flatten(*args)
    theirs = torch.nn.Flatten(*args)
    np.testing.assert_array_equal(ours(nf.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy())
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("dim, sizes", [(1, (2, 6)), (1, (3, -1)), (-1, [2, 2]), (0, (1, 2))])
def test_unflatten_matches_pytorch(dim, sizes):
    x = np.random.randn(2, 12, 4).astype(np.float32)
    ours, theirs = nf.nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes)
    if dim == -1:
        x = x[..., :4]
    np.testing.assert_array_equal(ours(nf.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy())
    assert repr(ours) == repr(theirs)


def test_unflatten_backward_and_errors():
    x = nf.ones(2, 6, requires_grad=True)
    nf.nn.Unflatten(1, (2, 3))(x).sum().backward()
    assert x.grad.shape == (2, 6)
    with pytest.raises(RuntimeError, match=r"don't multiply up to the size of dim 1 \(6\)"):
        nf.nn.Unflatten(1, (4, 2))(x)
    with pytest.raises(TypeError, match="unflattened_size must be tuple of ints"):
        nf.nn.Unflatten(1, 6)
    with pytest.raises(IndexError, match="Dimension out of range"):
        nf.nn.Unflatten(3, (2, 3))(x)
