"""Training: optimisers over the flat parameter vector, history, early stopping."""

from .fit import TrainingDivergedError, TrainingResult, train, train_function
from .history import History
from .optimizers import (METHODS, OptimizeResult, adam, conjugate_gradient, lbfgs,
                         minimize)

__all__ = ["train", "train_function", "TrainingResult", "TrainingDivergedError", "History",
           "minimize", "conjugate_gradient", "lbfgs", "adam", "OptimizeResult", "METHODS"]
