"""nbframe.vision: image ``transforms`` and ready-made ``models`` (torchvision's names)."""

from . import transforms

__all__ = ["transforms", "models"]


def __getattr__(name: str):
    if name == "models":  # imported on first use: the model zoo is larger than the transforms
        import importlib

        module = importlib.import_module(f"{__name__}.models")
        globals()["models"] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
