"""Losses for class-imbalanced classification, Keras 3. The mirror of torch_impl.losses.

Each loss is a functional form `fn(y_true, y_pred, **kw)` returning the unreduced loss
(element-wise `(..., C)` for the sigmoid family, per-sample `(...)` for the softmax family)
and a `keras.losses.Loss` subclass adding Keras's conventions (reductions, sample_weight,
get_config, serialisation), both derived from the loss's declaration in
`imbalance_core.loss_specs`. keras.ops only: every Keras backend runs them. Everything is
computed from logits in log space; float16/bfloat16 inputs are computed in float32 and returned
in the input dtype (the class computes in its loss dtype policy, float32 by default).

One module per family: `sigmoid`, `softmax`, `long_tail`; every public name is re-exported here.
"""

from . import long_tail, sigmoid, softmax
from .long_tail import *  # noqa: F403
from .sigmoid import *  # noqa: F403
from .softmax import *  # noqa: F403

__all__ = [*sigmoid.__all__, *softmax.__all__, *long_tail.__all__]
