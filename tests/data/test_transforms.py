"""vision.transforms: torchvision's rules, checked by hand (torchvision is not installed here)."""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from nbframe.vision import transforms as T


def _image(h=4, w=5, c=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (h, w) if c is None else (h, w, c)
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


def test_to_tensor_scales_uint8_and_moves_channels_first():
    img = _image(c=3)
    t = T.ToTensor()(img)
    assert t.shape == (3, 4, 5) and t.dtype == nf.float32
    np.testing.assert_allclose(t.numpy(), img.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    assert T.ToTensor()(_image()).shape == (1, 4, 5)


def test_to_tensor_keeps_other_dtypes_unscaled():
    img = np.full((2, 2), 3.5, dtype=np.float64)
    t = T.ToTensor()(img)
    assert t.dtype == nf.float64 and t.numpy().max() == 3.5


def test_to_tensor_refuses_a_tensor_with_a_hint():
    with pytest.raises(TypeError, match="drop ToTensor"):
        T.ToTensor()(nf.zeros(1, 2, 2))


def test_normalize_per_channel_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((2, 3, 4, 4)).astype(np.float32)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    got = T.Normalize(mean, std)(nf.tensor(x)).numpy()
    want = ((torch.tensor(x) - torch.tensor(mean).view(-1, 1, 1)) / torch.tensor(std).view(-1, 1, 1)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_normalize_in_place_and_its_errors():
    x = nf.ones(1, 2, 2)
    out = T.Normalize([0.5], [0.5], inplace=True)(x)
    assert out is x and x.numpy().max() == 1.0
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize([0.0], [0.0])(nf.ones(1, 2, 2))
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        T.Normalize([0.0], [1.0])(nf.ones(2, 2))
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize([0.0], [1.0])(nf.ones(1, 2, 2, dtype=nf.int64))


def test_normalize_is_differentiable():
    x = nf.ones(1, 2, 2, requires_grad=True)
    T.Normalize([0.0], [2.0])(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((1, 2, 2), 0.5))


def test_random_crop_takes_a_window_of_the_image():
    img = nf.tensor(np.arange(2 * 6 * 7, dtype=np.float32).reshape(2, 6, 7))
    out = T.RandomCrop((3, 4))(img)
    assert out.shape == (2, 3, 4)
    first = out.numpy()[0, 0, 0]
    top, left = divmod(int(first), 7)
    np.testing.assert_array_equal(out.numpy(), img.numpy()[:, top:top + 3, left:left + 4])


def test_random_crop_with_padding_keeps_the_size_and_fills():
    nf.manual_seed(0)
    img = _image(h=4, w=4)
    seen_fill = False
    for _ in range(20):
        out = T.RandomCrop(4, padding=2, fill=7)(img)
        assert out.shape == (4, 4) and out.dtype == np.uint8
        seen_fill |= bool((out == 7).any())
    assert seen_fill


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric"])
def test_random_crop_padding_modes_follow_numpy_pad(mode):
    img = nf.tensor(np.arange(9, dtype=np.float32).reshape(1, 3, 3))
    out = T.RandomCrop(7, padding=2, padding_mode=mode)(img)
    np.testing.assert_array_equal(out.numpy()[0], np.pad(img.numpy()[0], 2, mode=mode))


def test_random_crop_padding_forms():
    img = np.zeros((4, 5), np.uint8)
    assert T.RandomCrop((4 + 2, 5 + 6), padding=(3, 1))(img).shape == (6, 11)
    assert T.RandomCrop((4 + 6, 5 + 4), padding=(1, 2, 3, 4))(img).shape == (10, 9)


def test_random_crop_pad_if_needed_and_too_large():
    img = nf.zeros(1, 3, 3)
    assert T.RandomCrop(5, pad_if_needed=True)(img).shape == (1, 5, 5)
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop(5)(img)
    with pytest.raises(ValueError, match="Padding mode"):
        T.RandomCrop(5, padding_mode="wrap")


def test_random_horizontal_flip_probability_and_seed():
    img = nf.tensor(np.arange(6, dtype=np.float32).reshape(1, 2, 3))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(img).numpy(), img.numpy()[..., ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    arr = _image(c=3)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(arr), arr[:, ::-1])

    def flips(seed):
        nf.manual_seed(seed)
        return [T.RandomHorizontalFlip()(img) is not img for _ in range(30)]

    assert flips(1) == flips(1) and 5 < sum(flips(1)) < 25


def test_compose_and_lambda():
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,)), T.Lambda(lambda t: t * 2)])
    out = pipeline(np.full((2, 2), 255, np.uint8))
    np.testing.assert_allclose(out.numpy(), np.full((1, 2, 2), 2.0))
    assert repr(pipeline).startswith("Compose(\n    ToTensor()\n    Normalize(mean=(0.5,), std=(0.5,))")
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)


def test_transforms_module_is_exported_from_vision():
    import nbframe.vision as vision

    assert vision.transforms is T
