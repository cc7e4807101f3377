"""Losses for class-imbalanced classification, PyTorch. The mirror of tf_impl.losses.

Each loss is a functional form `fn(input, target, **kw)` returning the unreduced loss
(element-wise, the input's shape, for the sigmoid family; per-sample for the softmax family,
which takes CrossEntropyLoss's layouts (C), (N, C), (N, C, d1, ..., dk) with the class on
dim 1) and an `nn.Module` adding the torch reductions ("mean", "sum", "none") and
`sample_weight`, both derived from the loss's declaration in `imbalance_core.loss_specs`.
Everything is computed from logits in log space; float16/bfloat16 inputs are computed in
float32 and returned in the input dtype (float32 under autocast, as torch's own losses).
Tensor-content checks run eagerly and are skipped while torch.compile traces (see
`_ops.checking`).

One module per family: `sigmoid`, `softmax`, `long_tail`; every public name is re-exported here.
"""

from . import long_tail, sigmoid, softmax
from .long_tail import *  # noqa: F403
from .sigmoid import *  # noqa: F403
from .softmax import *  # noqa: F403

__all__ = [*sigmoid.__all__, *softmax.__all__, *long_tail.__all__]
