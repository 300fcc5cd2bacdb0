"""vision.models: torchvision's parameter names (so weights port by state_dict), sizes and forward shapes.

torchvision is not installed here, so the expected names are written out from torchvision's model
definitions; the parameter counts are the ones torchvision documents.
"""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from nbframe.vision import models

BN = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def _bn(prefix: str) -> list:
    return [f"{prefix}.{k}" for k in BN]


def _n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def _forward_shape(model, shape):
    model.eval()
    with nf.no_grad():
        return tuple(model(nf.randn(*shape)).shape)


def resnet_keys(blocks: list) -> list:
    keys = ["conv1.weight", *_bn("bn1")]
    for stage, n in enumerate(blocks, start=1):
        for b in range(n):
            p = f"layer{stage}.{b}"
            keys += [f"{p}.conv1.weight", *_bn(f"{p}.bn1"), f"{p}.conv2.weight", *_bn(f"{p}.bn2")]
            if b == 0 and stage > 1:
                keys += [f"{p}.downsample.0.weight", *_bn(f"{p}.downsample.1")]
    return keys + ["fc.weight", "fc.bias"]


def test_lenet5_names_and_shapes():
    model = models.lenet5()
    assert list(model.state_dict()) == [f"{n}.{k}" for n in ("conv1", "conv2", "fc1", "fc2", "fc3")
                                        for k in ("weight", "bias")]
    assert _n_params(model) == 61706
    assert _forward_shape(model, (2, 1, 28, 28)) == (2, 10)


def test_resnet18_has_torchvision_state_dict_keys_and_size():
    model = models.resnet18()
    assert list(model.state_dict()) == resnet_keys([2, 2, 2, 2])
    assert _n_params(model) == 11_689_512  # torchvision's documented count
    assert tuple(model.state_dict()["layer3.0.downsample.0.weight"].shape) == (256, 128, 1, 1)
    assert tuple(model.fc.weight.shape) == (1000, 512)


def test_resnet18_forward_shapes():
    assert _forward_shape(models.resnet18(num_classes=7), (1, 3, 64, 64)) == (1, 7)
    small = models.resnet18(num_classes=10, small_input=True)
    assert tuple(small.conv1.weight.shape) == (64, 3, 3, 3) and isinstance(small.maxpool, nf.nn.Identity)
    assert _forward_shape(small, (2, 3, 32, 32)) == (2, 10)


def test_resnet20_is_the_cifar_network():
    model = models.resnet20()
    assert list(model.state_dict()) == resnet_keys([3, 3, 3])
    assert 0.27e6 < _n_params(model) < 0.28e6
    assert _forward_shape(model, (2, 3, 32, 32)) == (2, 10)


def test_resnet_trains_one_step(rng):
    model = models.resnet20()
    x = nf.tensor(rng.standard_normal((4, 3, 16, 16)).astype(np.float32))
    loss = nf.nn.functional.cross_entropy(model(x), nf.tensor([0, 1, 2, 3]))
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    assert float(model.state_dict()["bn1.num_batches_tracked"]) == 1


def test_vgg11_names_follow_torchvision_indices():
    model = models.vgg11(num_classes=10, small_input=True)
    convs = [0, 3, 6, 8, 11, 13, 16, 18]
    want = [f"features.{i}.{k}" for i in convs for k in ("weight", "bias")]
    want += [f"classifier.{i}.{k}" for i in (0, 3, 6) for k in ("weight", "bias")]
    assert list(model.state_dict()) == want
    assert tuple(model.classifier[0].weight.shape) == (512, 512)
    assert _forward_shape(model, (2, 3, 32, 32)) == (2, 10)


def test_vgg11_full_size_classifier_shapes():
    model = models.VGG(models.vgg.make_layers([8, "M"]), num_classes=5)  # torchvision's head, small features
    assert tuple(model.avgpool.output_size) == (7, 7)
    assert [tuple(model.classifier[i].weight.shape) for i in (0, 3, 6)] == [(4096, 512 * 49), (4096, 4096),
                                                                           (5, 4096)]


def mobilenet_v2_keys() -> list:
    keys = ["features.0.0.weight", *_bn("features.0.1")]
    keys += ["features.1.conv.0.0.weight", *_bn("features.1.conv.0.1"), "features.1.conv.1.weight",
             *_bn("features.1.conv.2")]
    for i in range(2, 18):
        p = f"features.{i}.conv"
        keys += [f"{p}.0.0.weight", *_bn(f"{p}.0.1"), f"{p}.1.0.weight", *_bn(f"{p}.1.1"), f"{p}.2.weight",
                 *_bn(f"{p}.3")]
    return keys + ["features.18.0.weight", *_bn("features.18.1"), "classifier.1.weight", "classifier.1.bias"]


def test_mobilenet_v2_has_torchvision_state_dict_keys_and_size():
    model = models.mobilenet_v2()
    assert list(model.state_dict()) == mobilenet_v2_keys()
    assert _n_params(model) == 3_504_872  # torchvision's documented count
    assert tuple(model.features[2].conv[1][0].weight.shape) == (96, 1, 3, 3)  # depthwise


@pytest.mark.parametrize("width_mult", [1.0, 0.5])
def test_mobilenet_v2_forward_shape(width_mult):
    model = models.mobilenet_v2(num_classes=10, width_mult=width_mult)
    assert _forward_shape(model, (1, 3, 32, 32)) == (1, 10)


def test_state_dict_round_trip_between_two_models(rng):
    a, b = models.resnet20(), models.resnet20()
    b.load_state_dict({k: v.clone() for k, v in a.state_dict().items()})
    x = nf.tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32))
    a.eval(), b.eval()
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
