"""LeNet-5 (LeCun et al., 1998) for 1x28x28 digits, with ReLU and max pooling as it is taught today.

conv1 (6 maps, 5x5, padding 2) -> pool -> conv2 (16 maps, 5x5) -> pool -> fc1 120 -> fc2 84 -> fc3.
The names are those of PyTorch's own LeNet tutorial, so its weights load by name.
"""

from __future__ import annotations

from ... import nn
from ...nn import functional as F

__all__ = ["LeNet5", "lenet5"]


class LeNet5(nn.Module):
    """LeNet-5 for ``(N, in_channels, 28, 28)`` inputs (32x32 works too, as in the paper, with padding=0)."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, padding: int = 2) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, 5, padding=padding)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def lenet5(num_classes: int = 10, in_channels: int = 1, **kwargs) -> LeNet5:
    """LeNet-5 for 28x28 images (pass ``padding=0`` for the paper's 32x32 inputs)."""
    return LeNet5(num_classes=num_classes, in_channels=in_channels, **kwargs)
