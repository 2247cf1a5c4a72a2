"""``mt.optim``: torch-style optimizers built on optax, and ``lr_scheduler``.

Every built-in optimizer's update is a pure jax rule (``_rule.Rule``, also available as an optax
GradientTransformation via ``opt.transformation()``) run as ONE compiled call per parameter group;
hyperparameters are inputs of that call, so changing ``param_groups[i]['lr']`` never recompiles.
``Optax`` wraps any optax GradientTransformation as a torch-style optimizer. ``LBFGS`` is the one
eager optimizer (its line search and stopping tests read values on the host, so it cannot run inside
``mt.jit``).
"""

from __future__ import annotations

from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .nadam import NAdam
from .optax_wrapper import Optax
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam
from .swap_in import swap_in_optimizer_params_and_state

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
           "Rprop", "ASGD", "Adafactor", "Optax", "LBFGS", "SparseAdam", "Muon",
           "swap_in_optimizer_params_and_state"]
from . import lr_scheduler, swa_utils  # noqa: E402
