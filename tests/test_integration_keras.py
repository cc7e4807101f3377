"""Keras integration: model.compile/fit, get_config, save/load without custom_objects,
mixed precision. Runs on the tensorflow backend and again on the torch backend."""

import numpy as np
import pytest

pytestmark = pytest.mark.keras

import keras  # noqa: E402

from tf_impl.losses import WeightedBinaryCrossentropy  # noqa: E402


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, :2] + 0.3 * rng.normal(size=(n, 2)) > 1.0).astype("float32")  # rare positives
    return x, y


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])


def test_get_config_round_trip_covers_every_argument():
    loss = WeightedBinaryCrossentropy(
        pos_weight=[3.0, 1.5], neg_weight=0.5, label_smoothing=0.1, from_logits=False,
        validate_args=False, reduction="sum", name="wbce",
    )
    config = loss.get_config()
    for key in ("pos_weight", "neg_weight", "label_smoothing", "from_logits", "validate_args", "reduction", "name"):
        assert key in config
    clone = WeightedBinaryCrossentropy.from_config(config)
    assert clone.get_config() == config
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(restored, WeightedBinaryCrossentropy) and restored.get_config() == config


def test_fit_then_save_and_load_without_custom_objects(tmp_path):
    x, y = _data()
    model = _model()
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss=WeightedBinaryCrossentropy(pos_weight=[4.0, 4.0]))
    first = model.evaluate(x, y, verbose=0)
    history = model.fit(x, y, batch_size=64, epochs=5, verbose=0)
    assert history.history["loss"][-1] < first
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.models.load_model(path)  # the loss is registered: no custom_objects
    assert isinstance(restored.loss, WeightedBinaryCrossentropy)
    np.testing.assert_allclose(restored.loss.pos_weight, [4.0, 4.0])
    np.testing.assert_allclose(restored.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-6)


def test_targets_out_of_range_fail_inside_fit():
    """Content checks still fire inside model.fit (a tf.debugging assertion in TF graphs)."""
    x, y = _data(64)
    model = _model()
    model.compile(optimizer="sgd", loss=WeightedBinaryCrossentropy())
    with pytest.raises(Exception, match=r"Invalid `y_true`: targets must lie in \[0, 1\]"):
        model.fit(x, y * 3.0, epochs=1, verbose=0)


def test_shape_mismatch_fails_inside_fit():
    x, y = _data(64)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss=WeightedBinaryCrossentropy())
    with pytest.raises(ValueError, match=r"Shape mismatch: `y_true` has shape"):
        model.fit(x, y[:, 0], epochs=1, verbose=0)


def test_trains_under_mixed_precision():
    x, y = _data()
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = _model(1)
        assert model.layers[0].compute_dtype == "float16"
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss=WeightedBinaryCrossentropy(pos_weight=[4.0, 4.0]))
        before = model.evaluate(x, y, verbose=0)
        history = model.fit(x, y, batch_size=64, epochs=5, verbose=0)
    finally:
        keras.config.set_dtype_policy(policy)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < before
