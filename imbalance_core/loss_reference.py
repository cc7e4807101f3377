"""Float64 NumPy references of the losses: one function per functional loss, same name, same
keywords, the `reference` of each declaration in `imbalance_core.loss_specs`.

Signature: `reference(logits, target, **kwargs)` (torch's argument order), returning the
unreduced loss exactly as the functional forms do. Written for clarity and accuracy in
float64, not speed; the parity suite evaluates them on the inputs each framework saw (rounded
to the cell's dtype) and differentiates them by central differences.
"""

from __future__ import annotations

import numpy as np

EPSILON = 1e-7


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log sigma(x) = -log(1 + exp(-x)), stable for every finite x."""
    return -np.logaddexp(0.0, -x)


def _logits_from_probabilities(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPSILON, 1.0 - EPSILON)
    return np.log(p) - np.log1p(-p)


def _weight(w, default=1.0):
    return np.float64(default) if w is None else np.asarray(w, dtype=np.float64)


def weighted_binary_crossentropy(
    logits, target, *, pos_weight=None, neg_weight=None, label_smoothing=0.0, from_logits=True, validate_args=True
):
    """l = -[w+ y log sigma(x) + w- (1 - y) log sigma(-x)], y smoothed to y(1-e) + e/2."""
    x = np.asarray(logits, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    if not from_logits:
        x = _logits_from_probabilities(x)
    y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return -(_weight(pos_weight) * y * log_sigmoid(x) + _weight(neg_weight) * (1.0 - y) * log_sigmoid(-x))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(log_sigmoid(x))


def binary_focal_loss(logits, target, *, alpha=0.25, gamma=2.0, label_smoothing=0.0, from_logits=True,
                      validate_args=True):
    """l = a_t (1 - p_t)^gamma ce; 1 - p_t written as y sigma(-x) + (1-y) sigma(x) (exact)."""
    x = np.asarray(logits, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    if not from_logits:
        x = _logits_from_probabilities(x)
    y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    ce = -(y * log_sigmoid(x) + (1.0 - y) * log_sigmoid(-x))
    one_minus_pt = y * sigmoid(-x) + (1.0 - y) * sigmoid(x)
    loss = np.power(one_minus_pt, gamma) * ce
    if alpha is not None:
        loss = loss * (alpha * y + (1.0 - alpha) * (1.0 - y))
    return loss


def _log_softmax(x, from_logits=True):
    if from_logits:
        m = x.max(axis=-1, keepdims=True)
        return x - (m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True)))
    p = x / x.sum(axis=-1, keepdims=True)
    return np.log(np.clip(p, EPSILON, 1.0 - EPSILON))


def _targets(target, num_classes, ignore_index=None, label_smoothing=0.0):
    """(q smoothed, valid mask, q before smoothing) from indices or probability rows."""
    t = np.asarray(target)
    if t.ndim >= 1 and t.shape[-1] == num_classes and t.dtype.kind == "f":
        q = t.astype(np.float64)
        valid = np.ones(q.shape[:-1])
    else:
        t = t.astype(np.int64)
        valid = np.ones(t.shape) if ignore_index is None else (t != ignore_index).astype(np.float64)
        q = np.eye(num_classes)[np.where(valid > 0, t, 0)] * valid[..., None]
    raw = q
    if label_smoothing:
        q = (q * (1.0 - label_smoothing) + label_smoothing / num_classes) * valid[..., None]
    return q, valid, raw


def weighted_categorical_crossentropy(logits, target, *, class_weight=None, label_smoothing=0.0, ignore_index=None,
                                      from_logits=True, validate_args=True):
    """l_n = -sum_c w_c q_nc log softmax(x_n)_c (torch's CrossEntropyLoss, reduction='none')."""
    x = np.asarray(logits, dtype=np.float64)
    q, _, _ = _targets(target, x.shape[-1], ignore_index, label_smoothing)
    return -(_weight(class_weight) * q * _log_softmax(x, from_logits)).sum(axis=-1)


def categorical_focal_loss(logits, target, *, alpha=None, gamma=2.0, label_smoothing=0.0, ignore_index=None,
                           from_logits=True, validate_args=True):
    """l_n = -sum_c alpha_c (1 - p_c)^gamma q_c log p_c; 1 - p_c summed from the other classes."""
    x = np.asarray(logits, dtype=np.float64)
    k = x.shape[-1]
    q, _, _ = _targets(target, k, ignore_index, label_smoothing)
    logp = _log_softmax(x, from_logits)
    p = np.exp(logp)
    one_minus_p = np.stack([np.delete(p, c, axis=-1).sum(axis=-1) for c in range(k)], axis=-1)
    return -(_weight(alpha) * np.power(one_minus_p, gamma) * q * logp).sum(axis=-1)


def asymmetric_loss(logits, target, *, gamma_pos=1.0, gamma_neg=4.0, clip=0.05, stop_focal_gradient=False,
                    from_logits=True, validate_args=True, _focal_logits=None):
    """l = -[y (1-p)^g+ log p + (1-y) p_m^g- log(1-p_m)], p_m = max(p - clip, 0).

    `_focal_logits` (oracle only): evaluate the focal factors at these logits, so that central
    differences give the stop_focal_gradient=True gradient.
    """
    x = np.asarray(logits, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    if not from_logits:
        x = _logits_from_probabilities(x)
    xf = x if _focal_logits is None else np.asarray(_focal_logits, dtype=np.float64)
    if not from_logits and _focal_logits is not None:
        xf = _logits_from_probabilities(xf)
    log_1m_pm = np.log(np.minimum(sigmoid(-x) + clip, 1.0)) if clip > 0 else log_sigmoid(-x)
    w_pos = np.power(sigmoid(-xf), gamma_pos)
    w_neg = np.power(np.maximum(sigmoid(xf) - clip, 0.0), gamma_neg)
    return -(y * w_pos * log_sigmoid(x) + (1.0 - y) * w_neg * log_1m_pm)


def class_balanced_loss(logits, target, *, samples_per_class, beta=0.9999, base="softmax", gamma=2.0,
                        validate_args=True):
    """Cui et al.: w_c = (1-beta)/(1-beta^n_c) scaled to sum to K, on the chosen base loss."""
    x = np.asarray(logits, dtype=np.float64)
    k = x.shape[-1]
    n = np.asarray(samples_per_class, dtype=np.float64)
    w = (1.0 - beta) / (1.0 - np.power(beta, n)) if beta > 0 else np.ones(k)
    w = w / w.sum() * k
    if base == "softmax":
        return weighted_categorical_crossentropy(x, target, class_weight=w)
    q, _, _ = _targets(target, k)
    per_class = binary_focal_loss(x, q, alpha=None, gamma=gamma if base == "focal" else 0.0)
    return (q * w).sum(axis=-1) * per_class.sum(axis=-1)


def logit_adjusted_crossentropy(logits, target, *, class_priors, tau=1.0, ignore_index=None, validate_args=True):
    """CE(x + tau log pi, t), pi normalised."""
    x = np.asarray(logits, dtype=np.float64)
    pi = np.asarray(class_priors, dtype=np.float64)
    return weighted_categorical_crossentropy(x + tau * np.log(pi / pi.sum()), target, ignore_index=ignore_index)


def seesaw_loss(logits, target, *, cum_samples, p=0.8, q=2.0, eps=1e-2, validate_args=True, _score_logits=None):
    """mmdetection's seesaw_ce_loss, literally: S = M C from the count ratios and the scores,
    CE(x + log(S) (1 - onehot), t). `_score_logits` (oracle only): the logits the scores are taken
    from, held constant so that central differences give the detached-scores gradient."""
    x = np.asarray(logits, dtype=np.float64)
    k = x.shape[-1]
    t = np.asarray(target).astype(np.int64)
    onehot = np.eye(k)[t]
    n = np.maximum(np.asarray(cum_samples, dtype=np.float64), 1.0)
    ratio = n[None, :] / n[:, None]  # [i, j] = N_j / N_i
    mitigation = np.where(ratio < 1.0, ratio ** p, 1.0)[t]
    xs = x if _score_logits is None else np.asarray(_score_logits, dtype=np.float64)
    scores = np.exp(_log_softmax(xs))
    self_scores = np.take_along_axis(scores, t[..., None], axis=-1)
    score_ratio = scores / np.maximum(self_scores, eps)
    compensation = np.where(score_ratio > 1.0, score_ratio ** q, 1.0)
    seesaw = mitigation * compensation
    return weighted_categorical_crossentropy(x + np.log(seesaw) * (1.0 - onehot), t)


def distribution_balanced_loss(logits, target, *, samples_per_class, num_samples, gamma=2.0, balance_param=2.0,
                               map_alpha=0.1, map_beta=10.0, map_gamma=0.2, neg_scale=2.0, init_bias=0.05,
                               validate_args=True):
    """ResampleLoss (reweight_func="rebalance", focal, logit_reg), reduction "none", in float64."""
    x = np.asarray(logits, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    n = np.asarray(samples_per_class, dtype=np.float64)
    freq_inv = 1.0 / n
    rate = (y * freq_inv).sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        r = np.where(rate > 0, freq_inv / np.where(rate > 0, rate, 1.0), np.inf)
    weight = sigmoid(map_beta * (r - map_gamma)) + map_alpha
    z = x - np.log(num_samples / n - 1.0) * init_bias / neg_scale
    z = z * (1.0 - y) * neg_scale + z * y
    weight = weight / neg_scale * (1.0 - y) + weight * y
    bce = -(y * log_sigmoid(z) + (1.0 - y) * log_sigmoid(-z))
    pt = np.exp(-bce)
    return balance_param * (1.0 - pt) ** gamma * weight * bce


def ldam_loss(logits, target, *, samples_per_class, max_margin=0.5, scale=30.0, class_weight=None, ignore_index=None,
              validate_args=True):
    """Cao et al.: m_c = max_margin (n_min / n_c)^(1/4); CE(scale (x - m q), q) weighted by w."""
    x = np.asarray(logits, dtype=np.float64)
    n = np.asarray(samples_per_class, dtype=np.float64)
    margins = max_margin * (n.min() / n) ** 0.25
    q, _, _ = _targets(target, x.shape[-1], ignore_index)
    return weighted_categorical_crossentropy(scale * (x - margins * q), q, class_weight=class_weight)


def balanced_softmax_crossentropy(logits, target, *, samples_per_class, ignore_index=None, validate_args=True):
    """Ren et al.: CE(x + log n_c, t)."""
    x = np.asarray(logits, dtype=np.float64)
    return weighted_categorical_crossentropy(x + np.log(np.asarray(samples_per_class, dtype=np.float64)), target,
                                             ignore_index=ignore_index)


def poly_loss(logits, target, *, epsilon=1.0, gamma=0.0, ignore_index=None, validate_args=True):
    """Leng et al.: CE + eps (1 - p_t) (gamma 0); focal + eps (1 - p_t)^(gamma + 1) (gamma > 0);
    1 - p_t summed from the other classes' probabilities, sum_c q_c sum_{j != c} p_j."""
    x = np.asarray(logits, dtype=np.float64)
    k = x.shape[-1]
    q, _, _ = _targets(target, k, ignore_index)
    p = np.exp(_log_softmax(x))
    one_minus_p = np.stack([np.delete(p, c, axis=-1).sum(axis=-1) for c in range(k)], axis=-1)
    base = categorical_focal_loss(x, q, gamma=gamma)
    return base + epsilon * np.power((q * one_minus_p).sum(axis=-1), gamma + 1.0)
