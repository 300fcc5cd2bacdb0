"""nbframe.train: ``fit()``, its callbacks and ``History`` — the framework side of the training dashboard.

The loop never imports a widget itself: ``progress.py`` picks the reporter at
call time (the dashboard inside a Jupyter kernel, a text bar elsewhere).
"""

from .callbacks import Callback, CSVLogger, EarlyStopping, LambdaCallback, LRScheduler, ModelCheckpoint
from .fit import fit
from .history import History
from .progress import TextProgress, register_reporter

__all__ = ["fit", "History", "Callback", "EarlyStopping", "ModelCheckpoint", "LRScheduler", "CSVLogger",
           "LambdaCallback", "TextProgress", "register_reporter"]
