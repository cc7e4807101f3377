"""Conformance matrix, Keras side: every row of tests/conformance.py through Keras's own
machinery (compile and fit with Keras's label shapes, save/load without custom_objects,
mixed_float16, sample_weight (B, 1), segmentation, a real mismatch is an error).

Marked `keras`: runs on the tensorflow backend and again under KERAS_BACKEND=torch and jax.
MirroredStrategy lives in test_distributed.py (a subprocess with two logical CPU devices).
"""

import numpy as np
import pytest

pytestmark = pytest.mark.keras

import keras  # noqa: E402
from keras import ops  # noqa: E402

from tests import conformance  # noqa: E402

N = 64  # samples per fit: four steps of 16


def _np(t):
    return np.asarray(ops.convert_to_numpy(t), dtype="float64")


def _stock_loss(row):
    """The loss that trains the model of a metric row (Keras's own)."""
    if row.family == "binary":
        return keras.losses.BinaryCrossentropy(from_logits=True)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def _model(num_outputs, input_shape=(conformance.NUM_FEATURES,)):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(num_outputs)])


def _compile(model, row, obj):
    if row.kind == "loss":
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss=obj)
    else:
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss=_stock_loss(row), metrics=[obj])


def _one_d(row, inputs):
    """(number of model outputs, 1-D labels (B,)): the family's Keras-style 1-D form.
    Sigmoid family: (B,) labels against a (B, 1) output, as Keras's BinaryCrossentropy."""
    if row.family == "sigmoid":
        return 1, inputs.target[:, 0]
    return row.num_outputs, inputs.target


def _apply(row, obj, y_true, y_pred, sample_weight=None):
    """The row's value on one batch: the loss, or the metric's result after one update."""
    if row.kind == "loss":
        return _np(obj(y_true, y_pred, sample_weight=sample_weight))
    obj.reset_state()
    obj.update_state(y_true, y_pred, sample_weight=sample_weight)
    return _np(obj.result())


def _evaluate(model, x, y, **kw):
    return model.evaluate(x, y, batch_size=len(x), verbose=0, return_dict=True, **kw)


@pytest.mark.parametrize("row", conformance.params(conformance.MATRIX))
def test_fit_with_1d_labels_and_b1_sample_weight_then_save_and_load(tmp_path, row):
    """compile + fit with 1-D labels and sample_weight (B, 1); `evaluate` with the (B, 1) label
    form gives the eager value of the (B,) form; the saved .keras model loads without
    custom_objects and evaluates to the same numbers."""
    inputs = row.inputs(N)
    num_outputs, y = _one_d(row, inputs)
    obj = conformance.build("keras", row, num_outputs)
    model = _model(num_outputs)
    _compile(model, row, obj)
    history = model.fit(inputs.features, y, sample_weight=np.linspace(0.5, 1.5, N, dtype="float32")[:, None],
                        batch_size=16, epochs=1, shuffle=False, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    # (B, 1) labels mean the same as (B,) (Keras's own losses and metrics squeeze a trailing 1)
    value = _evaluate(model, inputs.features, y[:, None])
    assert all(np.all(np.isfinite(v)) for v in value.values()), value
    eager = _apply(row, conformance.build("keras", row, num_outputs), y, model(inputs.features))
    key = "loss" if row.kind == "loss" else obj.name
    assert row.kind == "loss" or eager.shape == row.result_shape
    np.testing.assert_allclose(value[key], eager, rtol=1e-5, atol=1e-6)

    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.models.load_model(path)  # registered classes: no custom_objects
    if row.kind == "loss":
        assert type(restored.loss) is type(obj) and restored.loss.get_config() == obj.get_config()
    reloaded = _evaluate(restored, inputs.features, y[:, None])
    assert set(reloaded) == set(value)
    for name in value:  # one by one: a vector-valued metric beside the scalar loss
        np.testing.assert_allclose(reloaded[name], value[name], rtol=1e-6, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("row", conformance.params(conformance.MATRIX))
def test_mixed_float16_trains_and_the_loss_is_float32(row):
    inputs = row.inputs(N, seed=1)
    policy = keras.config.dtype_policy()
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = _model(row.num_outputs)
        assert model.layers[0].compute_dtype == "float16"
        obj = conformance.build("keras", row)
        _compile(model, row, obj)
        history = model.fit(inputs.features, inputs.target, batch_size=32, epochs=1, shuffle=False, verbose=0)
        y_pred = model(inputs.features)
        assert keras.backend.standardize_dtype(y_pred.dtype) == "float16"
        if row.kind == "loss":
            value = obj(inputs.target, y_pred)
            assert keras.backend.standardize_dtype(value.dtype) == "float32", value.dtype
        else:
            obj.reset_state()
            obj.update_state(inputs.target, y_pred)
            value = obj.result()
    finally:
        keras.mixed_precision.set_dtype_policy(policy)
    assert np.all(np.isfinite(history.history["loss"])) and np.all(np.isfinite(_np(value)))


@pytest.mark.parametrize("row", conformance.params(conformance.MATRIX))
def test_sample_weight_b1_equals_b(row):
    inputs = row.inputs(32, seed=2)
    sw = np.random.default_rng(0).uniform(0.2, 2.0, size=32).astype("float32")
    obj = conformance.build("keras", row)
    flat = _apply(row, obj, inputs.target, inputs.logits, sw)
    column = _apply(row, obj, inputs.target, inputs.logits, sw[:, None])
    np.testing.assert_allclose(column, flat, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("row", conformance.params(conformance.MATRIX))
def test_trailing_one_squeezed_or_added(row):
    """Keras's rule, eager: labels (B,) and (B, 1) mean the same against a (B, 1) output
    (sigmoid family, binary metrics) or as sparse indices against (B, K) (softmax family)."""
    inputs = row.inputs(32, seed=3)
    if row.family == "sigmoid":
        obj = conformance.build("keras", row, 1)
        y, y_pred = inputs.target[:, 0], inputs.logits[:, :1]
    elif row.family == "binary":
        obj = conformance.build("keras", row)
        y, y_pred = inputs.target, inputs.logits[:, None]
    else:
        obj = conformance.build("keras", row)
        y, y_pred = inputs.target, inputs.logits
    np.testing.assert_allclose(_apply(row, obj, y, y_pred), _apply(row, obj, y[:, None], y_pred),
                               rtol=1e-6, atol=1e-7)


def _mismatch(row, inputs):
    """A genuine shape mismatch for the row's family: never a broadcast."""
    if row.family == "sigmoid":  # (B,) labels against (B, 3) sigmoid logits
        return inputs.target[:, 0], inputs.logits
    if row.family == "binary":  # (B,) labels against (B, 3) scores
        return inputs.target, np.stack([inputs.logits] * 3, axis=-1)
    return np.zeros((len(inputs.target), 2), "int64"), inputs.logits  # (B, 2) labels against (B, 3)


@pytest.mark.parametrize("row", conformance.params(conformance.MATRIX))
def test_real_shape_mismatch_is_a_clear_error(row):
    inputs = row.inputs(8, seed=4)
    y_true, y_pred = _mismatch(row, inputs)
    obj = conformance.build("keras", row)
    with pytest.raises(ValueError, match=r"(?i)shape"):
        _apply(row, obj, y_true, y_pred)


H = W = 4


@pytest.mark.parametrize("row", conformance.params(conformance.SOFTMAX))
def test_segmentation_dense_targets_with_per_pixel_sample_weight(row):
    """Dense targets (B, H, W) against logits (B, H, W, C), sample_weight (B, H, W): the case
    Keras's class_weight refuses. The mean over pixels equals the flattened (B H W, C) call."""
    n = 8
    rng = np.random.default_rng(5)
    flat = row.inputs(n * H * W, seed=5)
    features = flat.features.reshape(n, H, W, conformance.NUM_FEATURES)
    target = flat.target.reshape(n, H, W)
    sw = rng.uniform(0.2, 2.0, size=(n, H, W)).astype("float32")
    obj = conformance.build("keras", row)
    model = _model(conformance.K, input_shape=(H, W, conformance.NUM_FEATURES))
    _compile(model, row, obj)
    history = model.fit(features, target, sample_weight=sw, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    value = model.evaluate(features, target, sample_weight=sw, batch_size=n, verbose=0)
    logits = _np(model(features)).astype("float32")
    assert logits.shape == (n, H, W, conformance.K)
    direct = _np(obj(target, logits, sample_weight=sw))
    flattened = _np(obj(target.reshape(-1), logits.reshape(-1, conformance.K), sample_weight=sw.reshape(-1)))
    np.testing.assert_allclose(direct, flattened, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(value, flattened, rtol=1e-5, atol=1e-7)


def _functional_cases():
    """Every case of a functional loss in parity_tests' case table (its inputs and arguments
    are listed there), in Keras's class-last layout."""
    from parity_tests.cases import CASES

    return [pytest.param(case, id=case.name) for case in CASES if isinstance(case.fn, str) and case.reduction is None]


def _compiled_value_and_gradient(fn):
    """fn(x) -> (sum of the loss, its gradient), compiled as a Keras training step would be: XLA
    (tf.function(jit_compile=True)) on tensorflow, jax.jit on jax."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(jit_compile=True)
        def step(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                value = tf.reduce_sum(fn(x))
            return value, tape.gradient(value, x)

        return step
    import jax

    return jax.jit(jax.value_and_grad(lambda x: jax.numpy.sum(fn(x))))


@pytest.mark.parametrize("case", _functional_cases())
def test_functional_form_compiled_equals_eager(case):
    """Every functional loss case, compiled (XLA on tensorflow, jax.jit on jax) against eager:
    the same value and gradient, the extreme logits (|x| = 100, and x = 0 exactly) included,
    where a compiled graph may take another formula (tf_impl._ops.sigmoid_terms)."""
    if keras.backend.backend() == "torch":
        pytest.skip("Keras's torch backend runs a loss eagerly (torch.compile is torch_impl's, tested there)")
    import tf_impl.losses as losses

    fn = getattr(losses, case.fn)
    logits, target = case.make_inputs(np.random.default_rng(case.seed))
    x = ops.convert_to_tensor(logits.astype("float32"))
    y = ops.convert_to_tensor(target)

    def loss(x):
        return fn(y, x, validate_args=False, **case.kwargs)

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            value = tf.reduce_sum(loss(x))
        eager = (value, tape.gradient(value, x))
    else:
        import jax

        eager = jax.value_and_grad(lambda x: jax.numpy.sum(loss(x)))(x)
    compiled = _compiled_value_and_gradient(loss)(x)
    np.testing.assert_allclose(_np(compiled[0]), _np(eager[0]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(compiled[1]), _np(eager[1]), rtol=1e-5, atol=1e-6)
