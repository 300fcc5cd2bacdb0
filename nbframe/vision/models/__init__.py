"""``nbframe.vision.models``: ready-made networks with torchvision's structure and parameter names."""

from .lenet import LeNet5, lenet5
from .mobilenet import MobileNetV2, mobilenet_v2
from .resnet import BasicBlock, ResNet, resnet18, resnet20
from .vgg import VGG, vgg11

__all__ = ["LeNet5", "lenet5", "ResNet", "BasicBlock", "resnet18", "resnet20", "VGG", "vgg11", "MobileNetV2",
           "mobilenet_v2"]
