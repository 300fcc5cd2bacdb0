"""VGG-11 with torchvision's layout (``features``, ``avgpool``, ``classifier``) and names.

``vgg11()`` is torchvision's (configuration "A", a 7x7 average pool and 4096-wide classifier), so its
state_dict loads by name; ``small_input=True`` is the 32x32 variant: a 1x1 pool and a 512-wide classifier
(the indices features.N / classifier.0, 3, 6 stay the same).
"""

from __future__ import annotations

from ... import nn

__all__ = ["VGG", "vgg11"]

_CFG_A = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]


def make_layers(cfg: list, batch_norm: bool = False, in_channels: int = 3) -> nn.Sequential:
    layers = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """``features`` (convolutions), ``avgpool`` to ``pool_size``, ``classifier`` (three Linear layers)."""

    def __init__(self, features: nn.Module, num_classes: int = 1000, pool_size: int = 7, hidden: int = 4096,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        self.classifier = nn.Sequential(
            nn.Linear(512 * pool_size * pool_size, hidden), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(hidden, num_classes),
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def vgg11(num_classes: int = 1000, small_input: bool = False, batch_norm: bool = False,
          dropout: float = 0.5, in_channels: int = 3) -> VGG:
    """VGG-11 (configuration "A"); ``small_input=True`` for 32x32 images, ``batch_norm`` for vgg11_bn."""
    features = make_layers(_CFG_A, batch_norm, in_channels)
    if small_input:
        return VGG(features, num_classes, pool_size=1, hidden=512, dropout=dropout)
    return VGG(features, num_classes, dropout=dropout)
