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
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(optimizer="sgd", loss=WeightedBinaryCrossentropy())
    with pytest.raises(ValueError, match=r"Shape mismatch: `y_true` has shape"):
        model.fit(x, y[:, 0], epochs=1, verbose=0)


def test_one_dimensional_labels_against_one_output_as_keras():
    """(B,) labels against a (B, 1) output: Keras's own BinaryCrossentropy accepts them (a
    trailing 1 added), and so does ours, with the same value."""
    x, y = _data(64)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    logits = model(x)
    ours = WeightedBinaryCrossentropy()(y[:, 0], logits)
    keras_own = keras.losses.BinaryCrossentropy(from_logits=True)(y[:, 0], logits)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours), keras.ops.convert_to_numpy(keras_own), rtol=1e-6)
    model.compile(optimizer="sgd", loss=WeightedBinaryCrossentropy())
    history = model.fit(x, y[:, 0], epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


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


FAMILY = [
    ("WeightedBinaryCrossentropy", dict(pos_weight=[3.0, 1.0, 2.0], label_smoothing=0.1), "multi_label"),
    ("BinaryFocalLoss", dict(alpha=0.4, gamma=1.5, label_smoothing=0.05), "multi_label"),
    ("AsymmetricLoss", dict(gamma_pos=0.5, gamma_neg=3.0, clip=0.1, stop_focal_gradient=True), "multi_label"),
    ("WeightedCategoricalCrossentropy", dict(class_weight=[1.0, 4.0, 0.5], label_smoothing=0.1, ignore_index=-1), "sparse"),
    ("CategoricalFocalLoss", dict(alpha=[0.2, 0.5, 0.3], gamma=2.0, normalization="weight"), "sparse"),
    ("ClassBalancedLoss", dict(samples_per_class=[200, 30, 26], beta=0.99, base="focal", gamma=1.0), "sparse"),
    ("LogitAdjustedCrossentropy", dict(class_priors=[0.77, 0.12, 0.11], tau=1.5), "sparse"),
]


def _family_data(kind, n=256):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(n, 4)).astype("float32")
    if kind == "multi_label":
        return x, (x[:, :3] + 0.3 * rng.normal(size=(n, 3)) > 0.8).astype("float32")
    y = np.digitize(x[:, 0] + 0.2 * rng.normal(size=n), [0.7, 1.2]).astype("int64")
    return x, y


@pytest.mark.parametrize("name,kwargs,kind", FAMILY, ids=[f[0] for f in FAMILY])
def test_family_compile_fit_save_load(tmp_path, name, kwargs, kind):
    from tf_impl import losses

    loss = getattr(losses, name)(**kwargs)
    config = loss.get_config()
    assert type(loss).from_config(config).get_config() == config
    x, y = _family_data(kind)
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.SGD(0.3), loss=loss)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, batch_size=64, epochs=4, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert np.isfinite(after) and after < before
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    assert type(restored.loss) is type(loss) and restored.loss.get_config() == config
    np.testing.assert_allclose(restored.evaluate(x, y, verbose=0), after, rtol=1e-6)


def test_bad_class_indices_inside_fit_on_every_backend():
    """model.fit with class index 7 for K=3: the same message on tensorflow (a tf.debugging
    assertion), torch (eager check) and jax (jax.debug.callback, re-raised by jax)."""
    from tf_impl.losses import WeightedCategoricalCrossentropy

    x, _ = _data(64)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(optimizer="sgd", loss=WeightedCategoricalCrossentropy())
    with pytest.raises(Exception, match=r"Invalid `y_true`: class indices must lie in \[0, 3\)"):
        model.fit(x, np.array([0, 1, 7, 2] * 16), epochs=1, verbose=0)


def test_xla_graphs_warn_that_content_checks_are_off():
    """XLA drops tf.debugging assertions: a one-time RuntimeWarning says so, never silence."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("XLA jit_compile of a Keras model: the tensorflow backend")
    from tf_impl import _ops
    from tf_impl.losses import WeightedCategoricalCrossentropy

    _ops._CHECKS_OFF_WARNED.clear()
    x, _ = _data(64)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(optimizer="sgd", loss=WeightedCategoricalCrossentropy(), jit_compile=True)
    with pytest.warns(RuntimeWarning, match=r"content checks .* cannot run inside XLA-compiled TensorFlow graphs"):
        model.fit(x, np.array([0, 1, 2, 2] * 16), epochs=1, verbose=0)
