"""The global random number generator and ``Generator`` objects (``manual_seed``).

NumPy's PCG64 stands behind them: the same seed gives the same numbers on every
run and platform (not the same numbers as PyTorch's Mersenne Twister).
"""

from __future__ import annotations

import numpy as np


class Generator:
    """PyTorch's ``torch.Generator``: an RNG state you can seed and pass to random functions."""

    def __init__(self, device="cpu"):
        self.device = device
        self._seed = int(np.random.SeedSequence().entropy % (2**63))
        self.rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        if not isinstance(seed, (int, np.integer)):
            raise TypeError(f"manual_seed expected an integer seed, got {type(seed).__name__}")
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed % (2**64))
        return self

    def seed(self) -> int:
        self._seed = int(np.random.SeedSequence().entropy % (2**63))
        self.rng = np.random.default_rng(self._seed)
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        self.rng.bit_generator.state = state
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the global generator (and CUDA's, when CuPy is loaded); returns it."""
    default_generator.manual_seed(seed)
    from .backend import cuda as _cuda

    _cuda.philox_manual_seed(seed)  # the dropout kernel's stream, on every device
    if _cuda._cupy is not None:
        try:
            _cuda._cupy.random.seed(int(seed) % (2**32))
        except Exception:  # no device: nothing to seed
            pass
    return default_generator


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)


def rng_for(generator: Generator | None):
    """The NumPy generator to draw from: the given one's, or the global one's."""
    return (generator or default_generator).rng
