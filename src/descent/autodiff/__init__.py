"""Reverse-mode automatic differentiation over NumPy arrays.

``Tensor`` records operations; ``backward()`` applies the chain rule in reverse.
``grad`` and ``numerical_grad`` give derivatives by the chain rule and by nudging.
"""

from .functions import log_sigmoid, log_softmax, softmax
from .fused import log_loss_with_logits
from .gradients import check_grad, grad, numerical_grad, value_and_grad
from .graph import show_graph, to_dot
from .ops import (
    abs,
    cos,
    exp,
    log,
    logsumexp,
    maximum,
    mean,
    minimum,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    sum,
    tanh,
    unbroadcast,
    where,
)
from .tensor import Tensor

__all__ = [
    "Tensor", "grad", "value_and_grad", "numerical_grad", "check_grad", "show_graph", "to_dot",
    "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "softplus",
    "maximum", "minimum", "where", "sum", "mean", "logsumexp", "softmax", "log_softmax",
    "log_sigmoid", "log_loss_with_logits", "unbroadcast",
]
