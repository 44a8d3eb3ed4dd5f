"""Optimizers as data: ``(init, update)`` pairs of pure functions over numpy arrays.

>>> import numpy as np
>>> from descent import optim
>>> opt = optim.get_optimizer("momentum", learning_rate=0.1)
>>> params = np.array([1.0, -2.0])
>>> state = opt.init(params)
>>> grads = 2 * params                      # gradient of sum(x**2)
>>> updates, state = opt.update(grads, state, params)
>>> optim.apply_updates(params, updates)
array([ 0.8, -1.6])

Params and grads may be one array or a list/tuple/dict of arrays. Updates are added
to the params; state is plain numpy data (NamedTuples), so runs can be recorded and
replayed. Schedules (``step -> learning rate``) are accepted wherever a learning rate is.
"""

from descent.optim import schedules
from descent.optim.base import EmptyState, GradientTransformation, apply_updates, chain
from descent.optim.named import (
    OPTIMIZERS,
    adagrad,
    adam,
    gd,
    get_optimizer,
    momentum,
    nesterov,
    rmsprop,
)
from descent.optim.schedules import (
    SCHEDULES,
    Schedule,
    constant,
    cosine,
    exponential,
    get_schedule,
    inverse_scaling,
    step,
)
from descent.optim.transforms import (
    AdagradState,
    AdamState,
    RmsState,
    ScaleByLearningRateState,
    TraceState,
    scale,
    scale_by_adagrad,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_rms,
    trace,
)

__all__ = [
    # contract
    "GradientTransformation",
    "EmptyState",
    "chain",
    "apply_updates",
    # named optimizers
    "OPTIMIZERS",
    "get_optimizer",
    "gd",
    "momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adam",
    # building blocks and their states
    "scale",
    "scale_by_learning_rate",
    "trace",
    "scale_by_adagrad",
    "scale_by_rms",
    "scale_by_adam",
    "ScaleByLearningRateState",
    "TraceState",
    "AdagradState",
    "RmsState",
    "AdamState",
    # schedules
    "schedules",
    "Schedule",
    "SCHEDULES",
    "get_schedule",
    "constant",
    "step",
    "exponential",
    "inverse_scaling",
    "cosine",
]
