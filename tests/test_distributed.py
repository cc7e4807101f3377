"""Distributed equals one device, for every row of tests/conformance.py.

- Keras: tf.distribute.MirroredStrategy over two logical CPU devices against the default
  strategy (one device): same model, same initial weights, same global batches (no
  shuffle), a few SGD steps of `model.fit` per loss row, `model.evaluate` per metric row.
  Runs in a fresh process (tests/_mirrored_worker.py): logical devices can only be
  configured before TensorFlow initialises.
- torch: DistributedDataParallel over two real gloo processes (tests/_ddp_worker.py), each
  rank on its half of every global batch, against one process on the full batches (run here,
  torch.distributed not initialised). Metrics: each rank updates with its halves, compute()
  syncs them.

Each framework runs all its rows in one subprocess (pair), in one test (so that pytest-xdist
never starts it twice); the test checks every row and fails with the list of the rows that
differ and by how much, comparing the CHANGE of the weights: a loss that skips the distribution scaling moves
the weights twice as far with two replicas; a denominator that is not summed across replicas
(class weights with normalization="weight", ignore_index, sample weights) moves them by a
slightly wrong amount.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import needs_tf_backend
from tests import conformance

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 300
# max |distributed - one device| over the weights, relative to the largest weight change of
# the one-device run (float32: the replicas sum their gradients in another order)
RTOL = 1e-5

DISTRIBUTED_ROWS = conformance.DISTRIBUTED_LOSSES + conformance.METRICS


def _env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["OMP_NUM_THREADS"] = "1"
    env.update(extra)
    return env


def _load(path):
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def _tail(path, chars=4000):
    try:
        return Path(path).read_text(errors="replace")[-chars:]
    except OSError:
        return ""


class _Missing(Exception):
    pass


def _result(results, prefix, key):
    if f"{prefix}/error" in results:
        raise _Missing(f"raised:\n{results[f'{prefix}/error']}")
    if f"{prefix}/{key}" not in results:
        raise _Missing(f"no result for {prefix}/{key}")
    return results[f"{prefix}/{key}"]


def _weights(results, prefix):
    return np.concatenate([_result(results, prefix, "kernel").ravel(), _result(results, prefix, "bias").ravel()])


def _compare_training(row, distributed, single):
    """None when equal, else a line saying by how much the distributed run differs."""
    from tests._ddp_worker import initial_weights

    kernel, bias = initial_weights(row)
    initial = np.concatenate([kernel.ravel(), bias.ravel()]).astype("float64")
    change = np.abs(single - initial).max()
    moved = np.abs(distributed - initial).max()
    diff = np.abs(distributed - single).max()
    if change < 1e-3:
        return f"the weights barely moved ({change:g}): the comparison would say nothing"
    if diff <= RTOL * change:
        return None
    return (f"max weight change {moved:.4g} vs {change:.4g} on one device (ratio {moved / change:.4f}), "
            f"max |difference| {diff:.3g} = {diff / change:.3g} of the change")


def _report(label, problems):
    assert not problems, f"{label} differs from one device in {len(problems)} row(s):\n" + "\n".join(
        f"  {row_id}: {text}" for row_id, text in problems.items())


# ------------------------------------------------------------------------ Keras: Mirrored


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory):
    directory = tmp_path_factory.mktemp("mirrored")
    out, log = directory / "out.npz", directory / "log.txt"
    with open(log, "w") as sink:
        proc = subprocess.run([sys.executable, str(ROOT / "tests" / "_mirrored_worker.py"), str(out)], cwd=ROOT,
                              env=_env(KERAS_BACKEND="tensorflow"), stdout=sink, stderr=subprocess.STDOUT,
                              timeout=TIMEOUT_S)
    if proc.returncode != 0 or not out.exists():
        pytest.fail(f"the MirroredStrategy worker failed (exit {proc.returncode}):\n{_tail(log)}")
    return _load(out)


@needs_tf_backend
def test_mirrored_strategy_equals_one_device(mirrored):
    problems = {}
    for row in DISTRIBUTED_ROWS:
        try:
            if row.kind == "metric":
                got = np.asarray(_result(mirrored, f"{row.id}/mirrored", "value"), dtype="float64")
                want = np.asarray(_result(mirrored, f"{row.id}/single", "value"), dtype="float64")
                if got.shape != want.shape or not np.allclose(got, want, rtol=0, atol=1e-6):
                    problems[row.id] = f"MirroredStrategy {got} vs one device {want}"
                continue
            problem = _compare_training(row, _weights(mirrored, f"{row.id}/mirrored"),
                                        _weights(mirrored, f"{row.id}/single"))
        except _Missing as e:
            problem = str(e)
        if problem:
            problems[row.id] = problem
    _report("MirroredStrategy over 2 logical CPU devices", problems)


# ----------------------------------------------------------------------------- torch: DDP


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch_ddp(directory, world=2):
    port = _free_port()
    procs, logs = [], []
    for rank in range(world):
        log = directory / f"rank{rank}.log"
        logs.append(log)
        with open(log, "w") as sink:
            procs.append(subprocess.Popen(
                [sys.executable, str(ROOT / "tests" / "_ddp_worker.py"), str(rank), str(world), str(port),
                 str(directory / f"rank{rank}.npz")],
                cwd=ROOT, env=_env(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)), stdout=sink,
                stderr=subprocess.STDOUT))
    codes = []
    try:
        for proc in procs:
            codes.append(proc.wait(timeout=TIMEOUT_S))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return codes, logs


@pytest.fixture(scope="module")
def ddp(tmp_path_factory):
    """(rank 0 results, rank 1 results, one-process results)."""
    from tests import _ddp_worker

    directory = tmp_path_factory.mktemp("ddp")
    codes, logs = _launch_ddp(directory)
    if any(codes):  # e.g. the free port was taken meanwhile: once more, on another port
        codes, logs = _launch_ddp(directory)
    if any(codes):
        pytest.fail(f"the DDP workers failed (exit codes {codes}):\n" + "\n".join(_tail(log) for log in logs))
    ranks = [_load(directory / f"rank{rank}.npz") for rank in range(2)]
    return ranks[0], ranks[1], _ddp_worker.run_all()


def test_ddp_equals_one_process(ddp):
    rank0, rank1, single = ddp
    problems = {}
    for row in DISTRIBUTED_ROWS:
        try:
            if row.kind == "metric":
                got, other, want = (np.asarray(_result(r, row.id, "value"), dtype="float64") for r in (rank0, rank1, single))
                if not all(v.shape == want.shape and np.allclose(v, want, rtol=0, atol=1e-7) for v in (got, other)):
                    problems[row.id] = f"DDP ranks give {got}, {other}; one process on all the data {want}"
                continue
            w0, w1 = _weights(rank0, row.id), _weights(rank1, row.id)
            if not np.array_equal(w0, w1):
                problems[row.id] = f"the DDP replicas diverged (max |difference| {np.abs(w0 - w1).max():.3g})"
                continue
            problem = _compare_training(row, w0, _weights(single, row.id))
        except _Missing as e:
            problem = str(e)
        if problem:
            problems[row.id] = problem
    _report("DDP over 2 gloo processes", problems)


def test_ddp_threshold_tuner_equals_one_process(ddp):
    """decisions.ThresholdTuner, each rank fed half of every batch (with sample weights):
    the threshold and score that compute() gives after its DDP sync equal one process's on all
    the data, on both ranks."""
    from tests._ddp_worker import TUNER_ID

    rank0, rank1, single = ddp
    got, other, want = (np.asarray(_result(r, TUNER_ID, "value"), dtype="float64") for r in (rank0, rank1, single))
    # a real search: one process's threshold is inside (0, 1) and the score above chance
    assert 0.0 < want[0] < 1.0 and want[1] > 0.5, want
    for value in (got, other):
        np.testing.assert_allclose(value, want, rtol=0, atol=1e-12)
