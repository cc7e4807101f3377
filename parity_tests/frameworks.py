"""Framework adapters: run one functional loss on native tensors and return value and gradient.

Frameworks: "torch" (torch_impl), and "keras/<backend>" (tf_impl under the Keras backend of
this process, chosen by KERAS_BACKEND before Keras is imported: tensorflow, torch, or jax
where jax is installed). Each adapter takes float64 NumPy inputs that are already rounded to the cell's dtype
(so every framework's cast is exact), evaluates the loss in that dtype on the requested device,
and returns (value, d/dx sum(v * value)) as float64 NumPy. `fn` is a functional name in the
package, or any callable taking the framework's own argument order (the parity API).
"""

from __future__ import annotations

import importlib
import importlib.util
import os

import numpy as np

DEVICES = ("cpu", "gpu")


def keras_backend() -> str:
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


class TorchFramework:
    name = "torch"

    def __init__(self):
        import torch

        self.torch = torch
        if torch.cuda.is_available():  # TF32 off: the comparison is against float32 math
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False

    def device_missing(self, device: str) -> str | None:
        if device == "gpu" and not self.torch.cuda.is_available():
            return "no CUDA device visible to torch"
        return None

    def evaluate(self, fn_name, kwargs, logits, target, index_target, dtype, device, cotangent, torch_class_dim=None):
        """(value, gradient) as float64 NumPy; the loss must return the input's dtype."""
        return _same_dtype(self.evaluate_any_dtype(fn_name, kwargs, logits, target, index_target, dtype, device,
                                                   cotangent, torch_class_dim=torch_class_dim), dtype)

    def evaluate_any_dtype(self, fn_name, kwargs, logits, target, index_target, dtype, device, cotangent,
                           torch_class_dim=None):
        """(value, gradient, the dtype the loss returned): a user's loss may compute in its own dtype."""
        fn = _resolve(fn_name, "torch_impl.losses")
        call = lambda x, y: fn(x, y, **kwargs)  # noqa: E731
        if torch_class_dim is not None and logits.ndim > 2:
            # class axis last (the case's layout) -> torch's dim; the per-sample output is the same
            move = lambda t: t.movedim(-1, torch_class_dim)  # noqa: E731
            call = lambda x, y: fn(move(x), y if index_target else move(y), **kwargs)  # noqa: E731
        return _torch_value_and_grad(call, logits, target, index_target, dtype, device, cotangent)


class KerasFramework:
    def __init__(self):
        import keras

        self.keras = keras
        self.backend = keras.backend.backend()
        self.name = f"keras/{self.backend}"
        if self.backend == "tensorflow":
            import tensorflow as tf

            self.tf = tf
            tf.config.experimental.enable_tensor_float_32_execution(False)
        elif self.backend == "torch":
            import torch

            self.torch = torch
            if torch.cuda.is_available():
                torch.backends.cuda.matmul.allow_tf32 = False
                torch.backends.cudnn.allow_tf32 = False
        elif self.backend == "jax":
            import jax

            # No global jax_enable_x64: each cell sets it for itself (see _jax_value_and_grad), so
            # that the rest of the process runs as users run jax, without x64.
            self.jax = jax
        else:
            raise RuntimeError(f"parity: Keras backend {self.backend!r} is not supported (tensorflow, torch, jax)")

    def device_missing(self, device: str) -> str | None:
        if device != "gpu":
            return None
        if self.backend == "tensorflow" and not self.tf.config.list_physical_devices("GPU"):
            return "no GPU visible to TensorFlow"
        if self.backend == "torch" and not self.torch.cuda.is_available():
            return "no CUDA device visible to torch"
        if self.backend == "jax" and not any(d.platform == "gpu" for d in self.jax.devices()):
            return "no GPU visible to JAX"
        return None

    def evaluate(self, fn_name, kwargs, logits, target, index_target, dtype, device, cotangent, torch_class_dim=None):
        """(value, gradient) as float64 NumPy; the loss must return the input's dtype."""
        return _same_dtype(self.evaluate_any_dtype(fn_name, kwargs, logits, target, index_target, dtype, device,
                                                   cotangent), dtype)

    def evaluate_any_dtype(self, fn_name, kwargs, logits, target, index_target, dtype, device, cotangent,
                           torch_class_dim=None):
        """(value, gradient, the dtype the loss returned): a Keras loss class computes in its
        dtype policy (float32 by default), whatever the input's dtype."""
        fn = _resolve(fn_name, "tf_impl.losses")  # Keras: class axis last, as the case's inputs
        if self.backend == "jax":
            return _jax_value_and_grad(self.jax, fn, kwargs, logits, target, index_target, dtype, device, cotangent)
        kdev = ("gpu:0" if self.backend == "tensorflow" else "cuda:0") if device == "gpu" else "cpu:0"
        with self.keras.device(kdev):
            if self.backend == "tensorflow":
                tf = self.tf
                x = tf.cast(tf.constant(logits, tf.float64), dtype)
                y = tf.constant(target, tf.int64) if index_target else tf.cast(tf.constant(target, tf.float64), dtype)
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    out = fn(y, x, **kwargs)
                    total = tf.reduce_sum(tf.cast(out, tf.float64) * _cotangent_for(tuple(out.shape), cotangent))
                grad = tape.gradient(total, x)
                return tf.cast(out, tf.float64).numpy(), tf.cast(grad, tf.float64).numpy(), out.dtype.name
            return _torch_value_and_grad(
                lambda x, y: fn(y, x, **kwargs), logits, target, index_target, dtype, device, cotangent
            )


def _jax_value_and_grad(jax, fn, kwargs, logits, target, index_target, dtype, device, cotangent):
    """Value and d/dx sum(v * value) with jax.value_and_grad (Keras on its jax backend).

    float64 cells run under `jax.enable_x64(True)` (real float64 arrays), every other cell
    without x64, as users run jax: there index targets are int32 and the sum is float32 (the
    cotangents are exact in every dtype)."""
    jnp = jax.numpy
    x64 = dtype == "float64"
    with jax.enable_x64(x64):
        dev = jax.devices("gpu" if device == "gpu" else "cpu")[0]
        wide = jnp.float64 if x64 else jnp.float32
        x = jax.device_put(jnp.asarray(np.asarray(logits, np.float64).astype(jnp.dtype(dtype))), dev)
        y = (np.asarray(target).astype(jnp.int64 if x64 else jnp.int32) if index_target
             else np.asarray(target, np.float64).astype(jnp.dtype(dtype)))
        y = jax.device_put(jnp.asarray(y), dev)

        def total(xx):
            out = fn(y, xx, **kwargs)
            v = jax.device_put(jnp.asarray(_cotangent_for(out.shape, cotangent).astype(wide)), dev)
            return jnp.sum(out.astype(wide) * v), out

        (_, out), grad = jax.value_and_grad(total, has_aux=True)(x)
        return np.asarray(out).astype(np.float64), np.asarray(grad).astype(np.float64), jnp.dtype(out.dtype).name


def _resolve(fn, module: str):
    """A functional name in `module`, or a user's own callables (the parity API): a dict
    {"torch": fn, "keras": fn}, each in its framework's own argument order."""
    if isinstance(fn, dict):
        return fn["torch" if module.startswith("torch") else "keras"]
    return getattr(importlib.import_module(module), fn)


def _torch_value_and_grad(call, logits, target, index_target, dtype, device, cotangent):
    """Value and d/dx sum(v * value) with torch autograd (torch_impl, or Keras on torch)."""
    import torch

    dev = "cuda" if device == "gpu" else "cpu"
    tdt = getattr(torch, dtype)
    x = torch.tensor(logits, dtype=torch.float64, device=dev).to(tdt).requires_grad_(True)
    y = torch.tensor(target, device=dev)
    y = y.to(torch.int64) if index_target else y.to(torch.float64).to(tdt)
    out = call(x, y)
    v = _cotangent_for(tuple(out.shape), cotangent)
    (out.double() * torch.tensor(v, dtype=torch.float64, device=dev)).sum().backward()
    return out.detach().double().cpu().numpy(), x.grad.double().cpu().numpy(), str(out.dtype).replace("torch.", "")


def _cotangent_for(shape: tuple, cotangent) -> np.ndarray:
    """The cell's cotangent; ones when a user's loss returns another shape than the reference
    (the value comparison then reports the shapes, and the report explains them)."""
    cotangent = np.asarray(cotangent, np.float64)
    return cotangent if cotangent.shape == shape or cotangent.ndim == 0 else np.ones(shape)


def _same_dtype(result, dtype: str):
    """The library's own losses return the input's dtype (float16/bfloat16 computed in float32)."""
    value, grad, out_dtype = result
    if out_dtype != dtype:
        raise AssertionError(f"the loss returned {out_dtype} for {dtype} input")
    return value, grad


def in_process_frameworks(include_torch: bool = True) -> list:
    """The frameworks this process can run: torch, and Keras on this process's backend."""
    found: list[TorchFramework | KerasFramework] = []
    if include_torch and _have("torch"):
        found.append(TorchFramework())
    if _have("keras"):
        found.append(KerasFramework())
    return found
