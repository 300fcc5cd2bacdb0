"""ResNets with torchvision's block structure and parameter names: ``resnet18`` and CIFAR's ``resnet20``.

``resnet18`` is torchvision's (conv1 7x7/2, bn1, maxpool, layer1..layer4 of BasicBlocks, avgpool, fc),
so ``torchvision.models.resnet18().state_dict()`` loads by name; ``small_input=True`` makes the stem
a 3x3/1 convolution without max pooling, the usual variant for 32x32 images (its conv1 weight then has
another shape). ``resnet20`` is He et al.'s CIFAR network (three stages of three BasicBlocks, 16/32/64
channels) built from the same blocks, with torchvision's names; shortcuts that change shape are 1x1
convolutions (option B).
"""

from __future__ import annotations

from ... import nn

__all__ = ["BasicBlock", "ResNet", "resnet18", "resnet20"]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and a residual connection (torchvision's ``BasicBlock``)."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """A ResNet of BasicBlocks; ``layers`` gives the blocks per stage, ``widths`` the channels per stage."""

    def __init__(self, layers: list, num_classes: int = 1000, widths: tuple = (64, 128, 256, 512),
                 small_input: bool = False, zero_init_residual: bool = False, in_channels: int = 3) -> None:
        super().__init__()
        self.inplanes = widths[0]
        if small_input:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.Identity() if small_input else nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for i, (width, blocks) in enumerate(zip(widths, layers)):
            setattr(self, f"layer{i + 1}", self._make_layer(width, blocks, stride=1 if i == 0 else 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[len(layers) - 1] * BasicBlock.expansion, num_classes)
        self.num_stages = len(layers)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * BasicBlock.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * BasicBlock.expansion, stride),
                                       nn.BatchNorm2d(planes * BasicBlock.expansion))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * BasicBlock.expansion
        layers += [BasicBlock(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(self.avgpool(x).flatten(1))


def resnet18(num_classes: int = 1000, small_input: bool = False, **kwargs) -> ResNet:
    """ResNet-18 as torchvision builds it; ``small_input=True`` for 32x32 images (3x3 stem, no max pool)."""
    return ResNet([2, 2, 2, 2], num_classes=num_classes, small_input=small_input, **kwargs)


def resnet20(num_classes: int = 10, **kwargs) -> ResNet:
    """He et al.'s ResNet-20 for CIFAR-10 (0.27M parameters), with torchvision's names."""
    return ResNet([3, 3, 3], num_classes=num_classes, widths=(16, 32, 64), small_input=True, **kwargs)
