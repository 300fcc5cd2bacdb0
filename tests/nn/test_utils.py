"""nn.utils (gradient clipping, parameter vectors) and nn.utils.rnn (padding, packing) against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nbframe as nf
from nbframe.nn import utils
from nbframe.nn.utils import rnn

torch = pytest.importorskip("torch")
trnn = torch.nn.utils.rnn


def _params_with_grads(m, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for shape in ((3, 4), (5,), (2, 2, 2)):
        p = m.nn.Parameter(m.tensor(rng.standard_normal(shape).astype(np.float32)))
        p.grad = m.tensor(rng.standard_normal(shape).astype(np.float32) * 3)
        params.append(p)
    frozen = m.nn.Parameter(m.ones(2))  # no grad: skipped
    return params + [frozen]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm):
    ours, theirs = _params_with_grads(nf), _params_with_grads(torch)
    total = utils.clip_grad_norm_(ours, max_norm, norm_type)
    their_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert float(total) == pytest.approx(float(their_total), rel=1e-5)
    assert isinstance(total, nf.Tensor) and total.dim() == 0
    for p, q in zip(ours[:3], theirs[:3]):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_accepts_one_tensor_and_no_grads():
    p = nf.nn.Parameter(nf.ones(4))
    assert float(utils.clip_grad_norm_(p, 1.0)) == 0.0
    p.grad = nf.full((4,), 2.0)
    assert float(utils.clip_grad_norm_(p, 1.0)) == pytest.approx(4.0)
    assert float(p.grad.norm()) == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_norm_non_finite():
    p = nf.nn.Parameter(nf.ones(2))
    p.grad = nf.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert math.isinf(float(utils.clip_grad_norm_([p], 1.0)))


def test_clip_grad_value_matches_pytorch():
    ours, theirs = _params_with_grads(nf), _params_with_grads(torch)
    utils.clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for p, q in zip(ours[:3], theirs[:3]):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_get_total_norm_and_clip_with_norm_split_the_work():
    ours, theirs = _params_with_grads(nf), _params_with_grads(torch)
    total = utils.get_total_norm([p.grad for p in ours[:3]])
    assert float(total) == pytest.approx(float(torch.nn.utils.get_total_norm([p.grad for p in theirs[:3]])),
                                         rel=1e-6)
    utils.clip_grads_with_norm_(ours, 1.0, total)
    assert float(utils.get_total_norm([p.grad for p in ours[:3]])) == pytest.approx(1.0, rel=1e-5)


def test_parameters_to_vector_and_back_match_pytorch():
    ours, theirs = _params_with_grads(nf), _params_with_grads(torch)
    vec = utils.parameters_to_vector(ours)
    np.testing.assert_array_equal(vec.detach().numpy(),
                                  torch.nn.utils.parameters_to_vector(theirs).detach().numpy())
    vec.sum().backward()  # differentiable
    assert ours[0].grad is not None
    new = nf.arange(vec.numel(), dtype=nf.float32)
    utils.vector_to_parameters(new, ours)
    torch.nn.utils.vector_to_parameters(torch.arange(vec.numel(), dtype=torch.float32), theirs)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
        assert isinstance(p, nf.nn.Parameter) and p.requires_grad
    with pytest.raises(TypeError, match="expected nbframe.Tensor"):
        utils.vector_to_parameters([1.0], ours)
    with pytest.raises(RuntimeError, match="has 3 elements but the parameters need"):
        utils.vector_to_parameters(nf.zeros(3), ours)


# ----------------------------------------------------------------------------- nn.utils.rnn
LENGTHS = (2, 5, 3, 5)


def _sequences(m, lengths=LENGTHS, requires_grad=False):
    rng = np.random.default_rng(1)
    return [m.tensor(rng.standard_normal((n, 3)), requires_grad=requires_grad) for n in lengths]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_pytorch(batch_first, padding_side):
    ours = rnn.pad_sequence(_sequences(nf), batch_first, -1.0, padding_side)
    theirs = trnn.pad_sequence(_sequences(torch), batch_first, -1.0, padding_side)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def _same_packed(ours, theirs):
    np.testing.assert_array_equal(ours.data.detach().numpy(), theirs.data.detach().numpy())
    assert ours.batch_sizes.tolist() == theirs.batch_sizes.tolist()
    assert ours.batch_sizes.dtype == nf.int64
    for field in ("sorted_indices", "unsorted_indices"):
        a, b = getattr(ours, field), getattr(theirs, field)
        assert (a is None) == (b is None)
        if a is not None:
            assert a.tolist() == b.tolist()


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_padded_sequence_matches_pytorch(batch_first):
    lengths = [5, 3, 6, 1]  # distinct: PyTorch's unstable sort may order ties differently
    ours_in = rnn.pad_sequence(_sequences(nf, lengths), batch_first)
    theirs_in = trnn.pad_sequence(_sequences(torch, lengths), batch_first)
    _same_packed(rnn.pack_padded_sequence(ours_in, lengths, batch_first, enforce_sorted=False),
                 trnn.pack_padded_sequence(theirs_in, lengths, batch_first, enforce_sorted=False))
    ordered = sorted(lengths, reverse=True)
    ours_in = rnn.pad_sequence(_sequences(nf, ordered), batch_first)
    theirs_in = trnn.pad_sequence(_sequences(torch, ordered), batch_first)
    _same_packed(rnn.pack_padded_sequence(ours_in, nf.tensor(ordered), batch_first),
                 trnn.pack_padded_sequence(theirs_in, torch.tensor(ordered), batch_first))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("total_length", [None, 8])
def test_pad_packed_sequence_matches_pytorch(batch_first, total_length):
    lengths = [2, 5, 3, 4]
    ours = rnn.pack_sequence(_sequences(nf, lengths), enforce_sorted=False)
    theirs = trnn.pack_sequence(_sequences(torch, lengths), enforce_sorted=False)
    padded, out_lengths = rnn.pad_packed_sequence(ours, batch_first, 9.0, total_length)
    their_padded, their_lengths = trnn.pad_packed_sequence(theirs, batch_first, 9.0, total_length)
    np.testing.assert_array_equal(padded.numpy(), their_padded.numpy())
    assert out_lengths.tolist() == their_lengths.tolist()


def test_gradients_flow_through_pack_and_pad_like_pytorch():
    lengths = [2, 5, 3]
    grads = []
    for m, mod in ((nf, rnn), (torch, trnn)):
        seqs = _sequences(m, lengths, requires_grad=True)
        packed = mod.pack_sequence(seqs, enforce_sorted=False)
        packed = packed._replace(data=packed.data * packed.data)
        padded, _ = mod.pad_packed_sequence(packed, batch_first=True)
        (padded * m.arange(padded.numel(), dtype=m.float64).reshape(padded.shape)).sum().backward()
        grads.append([s.grad.numpy() for s in seqs])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_pack_sequence_round_trips_through_unpack_sequence():
    seqs = _sequences(nf)
    back = rnn.unpack_sequence(rnn.pack_sequence(seqs, enforce_sorted=False))
    for a, b in zip(seqs, back):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    padded = rnn.pad_sequence(seqs, batch_first=True)
    for a, b in zip(seqs, rnn.unpad_sequence(padded, nf.tensor(LENGTHS), batch_first=True)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_packed_sequence_is_pytorchs_named_tuple():
    packed = rnn.pack_sequence(_sequences(nf), enforce_sorted=False)
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert packed._fields == trnn.PackedSequence._fields
    assert packed.float().data.dtype == nf.float32 and packed.to(nf.float32).data.dtype == nf.float32
    assert packed.to(nf.float64) is packed
    assert not packed.is_cuda


def test_packing_errors_match_pytorch():
    cases = (lambda m, mod: mod.pack_padded_sequence(m.zeros(4, 2, 3), [2, 3]),
             lambda m, mod: mod.pack_padded_sequence(m.zeros(4, 2, 3), [2, 0]),
             lambda m, mod: mod.pack_padded_sequence(m.zeros(4, 2, 3), [2]),
             lambda m, mod: mod.pad_packed_sequence(mod.pack_sequence([m.zeros(3, 1)]), total_length=2))
    for case in cases:
        with pytest.raises((RuntimeError, ValueError)) as ours:
            case(nf, rnn)
        with pytest.raises((RuntimeError, ValueError)) as theirs:
            case(torch, trnn)
        assert type(ours.value) is type(theirs.value)
        assert str(ours.value) == str(theirs.value)
