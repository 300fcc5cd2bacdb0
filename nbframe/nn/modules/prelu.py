"""``nn.PReLU``: the learned-slope activation, with its slopes as a Parameter."""

from __future__ import annotations

from ... import creation
from ...tensor import Tensor
from .. import functional as F
from .. import init as _init
from ..module import Module
from ..parameter import Parameter

__all__ = ["PReLU"]


class PReLU(Module):
    """``max(0, x) + weight * min(0, x)``: ``num_parameters`` is 1 (one shared slope) or the channel count."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(creation.empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
