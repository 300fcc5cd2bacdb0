"""Tensors: creation, dtypes, conversion and printing, compared with PyTorch."""

import numpy as np
import pytest

import nbframe as nf

torch = pytest.importorskip("torch")


def _same(nf_tensor, torch_tensor):
    assert tuple(nf_tensor.shape) == tuple(torch_tensor.shape)
    assert str(nf_tensor.dtype).split(".")[-1] == str(torch_tensor.dtype).split(".")[-1]
    np.testing.assert_array_equal(nf_tensor.numpy(), torch_tensor.numpy())


@pytest.mark.parametrize(
    "data",
    [
        [1, 2, 3],
        [1.0, 2.0],
        [[True, False]],
        3,
        2.5,
        True,
        [[1, 2.5], [3, 4]],
        np.arange(4, dtype=np.int32),
        np.ones((2, 2), dtype=np.float64),
    ],
)
def test_tensor_infers_dtype_like_torch(data):
    _same(nf.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
def test_size_forms_and_default_dtype(name):
    for args in [(2, 3), ((2, 3),), ([4],)]:
        t = getattr(nf, name)(*args)
        assert t.shape == getattr(torch, name)(*args).shape
        assert t.dtype == nf.float32


def test_full_arange_linspace_eye_match_torch():
    _same(nf.full((2, 2), 7), torch.full((2, 2), 7))
    _same(nf.full((2,), 1.5), torch.full((2,), 1.5))
    _same(nf.arange(5), torch.arange(5))
    _same(nf.arange(1, 2, 0.25), torch.arange(1, 2, 0.25))
    np.testing.assert_allclose(nf.linspace(0, 1, 5).numpy(), torch.linspace(0, 1, 5).numpy())
    _same(nf.eye(3, 2), torch.eye(3, 2))


def test_like_functions_keep_shape_dtype_and_device():
    x = nf.ones(2, 3, dtype=nf.float64)
    for fn in (nf.zeros_like, nf.ones_like, nf.empty_like, nf.rand_like, nf.randn_like):
        y = fn(x)
        assert y.shape == (2, 3) and y.dtype == nf.float64
    assert nf.full_like(x, 4.0).sum().item() == 24.0


def test_random_functions_are_reproducible_under_manual_seed():
    nf.manual_seed(123)
    a = nf.randn(3, 4), nf.rand(2), nf.randint(0, 10, (5,)), nf.randperm(6)
    nf.manual_seed(123)
    b = nf.randn(3, 4), nf.rand(2), nf.randint(0, 10, (5,)), nf.randperm(6)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    assert a[2].dtype == nf.int64 and 0 <= a[2].min().item() and a[2].max().item() < 10
    g = nf.Generator().manual_seed(5)
    np.testing.assert_array_equal(
        nf.rand(3, generator=g).numpy(), nf.rand(3, generator=nf.Generator().manual_seed(5)).numpy()
    )


def test_from_numpy_shares_memory_and_numpy_round_trips():
    a = np.zeros(3, dtype=np.float32)
    t = nf.from_numpy(a)
    a[0] = 5
    assert t[0].item() == 5
    assert t.numpy() is a
    assert nf.tensor(a).numpy() is not a


def test_item_tolist_and_conversions():
    t = nf.tensor([[1.5, 2.0]])
    assert t.tolist() == [[1.5, 2.0]]
    assert nf.tensor(3).item() == 3 and isinstance(nf.tensor(3).item(), int)
    assert float(nf.tensor([2.5])) == 2.5
    with pytest.raises(RuntimeError, match="2 elements cannot be converted"):
        t.item()
    assert t.double().dtype == nf.float64 and t.long().dtype == nf.int64 and t.half().dtype == nf.float16
    assert t.to(nf.float64).dtype == nf.float64 and t.to("cpu") is t
    assert t.numel() == 2 and t.dim() == 2 and t.size(1) == 2 and t.size() == (1, 2)


def test_numpy_on_tensor_requiring_grad_says_detach():
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        nf.ones(2, requires_grad=True).numpy()


def test_cuda_without_cupy_or_gpu_says_what_is_missing():
    if nf.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match=r"nbframe\[cuda\]|no CUDA GPU"):
        nf.ones(2).to("cuda")
    with pytest.raises(RuntimeError, match=r"nbframe\[cuda\]|no CUDA GPU"):
        nf.zeros(2, device="cuda")


def test_device_objects_match_pytorchs_spelling():
    assert str(nf.device("cuda:1")) == "cuda:1"
    assert repr(nf.device("cpu")) == "device(type='cpu')"
    assert nf.ones(1).device == nf.device("cpu") == "cpu"
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        nf.device("tpu")


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.tensor([1.0, 2.5, -3.0]),
        lambda m: m.tensor([1.0, 2.0, 3.0]),
        lambda m: m.tensor([[1, 2], [30, 4]]),
        lambda m: m.tensor([True, False]),
        lambda m: m.tensor(3.25),
        lambda m: m.tensor([1e-5, 1.0, 1e5]),
        lambda m: m.tensor([[0.5, 1.25], [2.0, 3.0]], dtype=m.float64),
        lambda m: m.tensor([1.0, 2.0], requires_grad=True),
        lambda m: m.arange(2000).reshape(40, 50),
        lambda m: m.zeros(0, 3),
    ],
)
def test_repr_matches_torch(make):
    assert repr(make(nf)) == repr(make(torch)).replace("torch.", "nbframe.")


def test_repr_shows_grad_fn():
    x = nf.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward0>)"


def test_type_promotion_follows_torch():
    cases = [
        (lambda m: m.tensor([1, 2]) + 0.5),
        (lambda m: m.tensor([1, 2]) / m.tensor([2, 4])),
        (lambda m: m.tensor([1.0], dtype=m.float32) * m.tensor(2.0, dtype=m.float64)),
        (lambda m: m.tensor([True]) + 1),
        (lambda m: m.tensor([1], dtype=m.int32) + m.tensor([1], dtype=m.int64)),
        (lambda m: m.tensor([1.0], dtype=m.float16) * 3),
        (lambda m: m.tensor([1.0], dtype=m.float32) + m.tensor([1.0], dtype=m.float64)),
    ]
    for case in cases:
        assert str(case(nf).dtype).split(".")[-1] == str(case(torch).dtype).split(".")[-1]


def test_mismatched_shapes_name_the_op_and_both_shapes():
    with pytest.raises(RuntimeError, match=r"add.*\[3\].*\[4\]"):
        nf.ones(3) + nf.ones(4)


def test_data_attribute_is_a_detached_tensor_sharing_memory():
    p = nf.ones(3, requires_grad=True)
    d = p.data
    assert isinstance(d, nf.Tensor) and not d.requires_grad
    d.mul_(2)
    assert p.detach().sum().item() == 6.0
    p.data = nf.zeros(3)
    assert p.detach().sum().item() == 0.0
