"""Argument validation shared by tf_impl and torch_impl: every check, and every error message.

Every check here raises the same exception type with the same message in both frameworks:
the message names the argument, the value received and what is allowed. Arguments are
checked when a loss/metric/sampler is built; tensor contents are checked at call time by the
frameworks, which format their messages with the ``*_message`` helpers so the text is
identical.

The checks live in three parts, all re-exported here (callers write `validation.check_number`,
`validation.shape_message`): the scalar and vector arguments with the rendering of received
values (`_argument_checks`), the shapes, dtypes and contents of tensors at call time
(`_tensor_checks`), and the checks and messages of one feature each (`_topic_checks`).
"""

from __future__ import annotations

# Every name of the parts is re-exported, the documented ones listed in __all__.
from ._argument_checks import (  # noqa: F401
    KERAS_REDUCTIONS,
    TORCH_REDUCTIONS,
    check_bool,
    check_choice,
    check_fractions,
    check_integer,
    check_number,
    check_priors,
    check_weight_vector,
    describe,
    require_weight_vector,
    to_numpy,
)
from ._tensor_checks import (  # noqa: F401
    check_class_indices,
    check_float_dtype,
    check_same_shape,
    check_values_in_range,
    check_vector_length,
    check_vector_rank,
    check_whole_numbers,
    deferred_failure_message,
    feature_rows_message,
    float_dtype_message,
    index_message,
    invalid_values_message,
    range_message,
    sample_weight_shape_message,
    scalar_logits_message,
    shape_message,
    softmax_target_shape_message,
    whole_number_message,
)
from ._topic_checks import (  # noqa: F401
    binary_labels_message,
    both_classes_message,
    check_class_counts_below,
    check_counts,
    check_positive_class_priors,
    check_samples_per_class,
    check_shot_thresholds,
    check_stream_state_config,
    class_index_labels_message,
    empty_labels_message,
    exact_batch_too_small_message,
    exclusive_weights_message,
    finite_scores_message,
    fit_class_weight_rank_message,
    fit_weights_conflict_message,
    fractions_unused_message,
    index_targets_only_message,
    label_fn_without_dataset_message,
    min_tpr_message,
    missing_column_message,
    missing_prior_message,
    multi_hot_dtype_message,
    multi_hot_shape_message,
    multi_hot_values_message,
    mutable_class_weight_message,
    nan_scores_message,
    negative_sample_weight_message,
    no_positive_labels_message,
    not_a_dataset_message,
    not_a_loss_message,
    not_a_metric_message,
    not_callable_message,
    null_labels_message,
    per_sample_weight_message,
    prior_length_message,
    ragged_multi_hot_message,
    ray_missing_message,
    scalar_prior_message,
    state_mismatch_message,
    state_shape_message,
    stateless_counts_message,
    stream_element_shape_message,
    stream_reread_message,
    stream_source_not_resumable_message,
    stream_state_dict_message,
    wrong_framework_message,
    zero_training_weight_message,
)

__all__ = [
    "TORCH_REDUCTIONS",
    "KERAS_REDUCTIONS",
    "to_numpy",
    "describe",
    "check_choice",
    "check_number",
    "check_bool",
    "check_weight_vector",
    "check_priors",
    "check_same_shape",
    "check_vector_length",
    "check_values_in_range",
    "check_class_indices",
    "check_float_dtype",
    "float_dtype_message",
    "whole_number_message",
    "check_whole_numbers",
    "deferred_failure_message",
    "invalid_values_message",
    "feature_rows_message",
    "sample_weight_shape_message",
    "range_message",
    "index_message",
    "shape_message",
    "softmax_target_shape_message",
]
