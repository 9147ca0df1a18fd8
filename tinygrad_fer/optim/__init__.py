"""Optimizers and learning-rate schedulers, mirroring torch.optim."""
from tinygrad_fer.optim import lr_scheduler
from tinygrad_fer.optim.adadelta import Adadelta
from tinygrad_fer.optim.adagrad import Adagrad
from tinygrad_fer.optim.adam import Adam, AdamW
from tinygrad_fer.optim.adamax import Adamax
from tinygrad_fer.optim.asgd import ASGD
from tinygrad_fer.optim.lbfgs import LBFGS
from tinygrad_fer.optim.nadam import NAdam
from tinygrad_fer.optim.optimizer import Optimizer, required
from tinygrad_fer.optim.radam import RAdam
from tinygrad_fer.optim.rmsprop import RMSprop
from tinygrad_fer.optim.rprop import Rprop
from tinygrad_fer.optim.sgd import SGD
from tinygrad_fer.optim import swa_utils  # noqa: E402  (last: it builds on nn's Module)

__all__ = ["ASGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS", "NAdam", "Optimizer", "RAdam",
           "RMSprop", "Rprop", "SGD", "lr_scheduler", "required", "swa_utils"]
