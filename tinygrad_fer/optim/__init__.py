"""Optimizers and learning-rate schedulers, mirroring torch.optim."""
from tinygrad_fer.optim import lr_scheduler
from tinygrad_fer.optim.adam import Adam, AdamW
from tinygrad_fer.optim.optimizer import Optimizer, required
from tinygrad_fer.optim.rmsprop import RMSprop
from tinygrad_fer.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler", "required"]
