"""tf.distribute.MultiWorkerMirroredStrategy with default options: two worker processes on
localhost (TF_CONFIG, free ports), each running tests/_multiworker_worker.py, started and
stopped by this module, with a timeout. Each worker's replica must receive disjoint, exactly
composed batches of the documented size, the same number on both workers, and the batches
torch_impl gives the same rank."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import _multiworker_worker as worker  # noqa: E402

STREAM_CASES = ["balance_dataset", "balance_dataset_from_function"]
MEMORY_CASES = ["balanced_batches", "balanced_batches_from_function"]
CASES = STREAM_CASES + MEMORY_CASES
TIMEOUT_S = 240


def _free_ports(n: int):
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("localhost", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    directory = tmp_path_factory.mktemp("multiworker")
    hosts = [f"localhost:{port}" for port in _free_ports(2)]
    procs, logs = [], []
    try:
        for index in range(2):
            env = dict(os.environ, KERAS_BACKEND="tensorflow", CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2",
                       TF_CONFIG=json.dumps({"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}}))
            log = open(directory / f"worker{index}.log", "w")
            logs.append(log)
            procs.append(subprocess.Popen(
                [sys.executable, str(ROOT / "tests" / "_multiworker_worker.py"), str(directory / f"worker{index}.npz"), *CASES],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        for index, proc in enumerate(procs):
            try:
                code = proc.wait(timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                code = "timeout"
            if code != 0:
                tail = (directory / f"worker{index}.log").read_text()[-3000:]
                pytest.fail(f"worker {index} ended with {code}:\n{tail}")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()
    return [dict(np.load(directory / f"worker{index}.npz")) for index in range(2)]


def _torch_rank_batches(rank: int, num_replicas: int):
    torch = pytest.importorskip("torch")
    from torch_impl.data import balance_dataset

    source = [{"id": torch.tensor(i), "label": torch.tensor(int(c))} for i, c in enumerate(worker.LABELS)]
    ds = balance_dataset(source, lambda item: item["label"], worker.PER_REPLICA, num_replicas=num_replicas, rank=rank,
                         **worker.STREAM)
    return np.stack([b["id"].numpy() for b in ds])


@pytest.mark.parametrize("case", STREAM_CASES)
def test_each_worker_gets_disjoint_exact_batches(results, case):
    rows = [r[f"{case}/rows"] for r in results]
    labels = [r[f"{case}/labels"] for r in results]
    assert rows[0].shape == rows[1].shape  # the same number of steps on both workers
    steps = rows[0].shape[0]
    assert steps > 100 and rows[0].shape[1] == worker.PER_REPLICA
    for index in range(2):
        np.testing.assert_array_equal(labels[index], worker.LABELS[rows[index]])  # the rows travel together
        assert (labels[index].sum(axis=1) == worker.PER_REPLICA // 2).all()  # exact: 4 + 4 in every batch
        np.testing.assert_array_equal(results[index][f"{case}/global_rows"], np.full(steps, 2 * worker.PER_REPLICA))
        # worker i's replica is rank i of 2: the batches torch_impl gives that rank
        np.testing.assert_array_equal(rows[index], _torch_rank_batches(index, 2))
    for step in range(steps):
        # Disjoint within a step: no majority record on both workers (minority records are
        # replayed by design, so one may appear in both).
        a, b = (r[step][worker.LABELS[r[step]] == 0] for r in rows)
        assert not set(a.tolist()) & set(b.tolist())
    # Over the epoch the majority (driving) records appear once across both workers, apart
    # from the last round's padding (replays, on worker 1 when the batch count is odd).
    single = _torch_rank_batches(0, 1)
    dealt = np.stack([rows[j % 2][j // 2] for j in range(single.shape[0])])
    np.testing.assert_array_equal(dealt, single)
    majority = dealt[worker.LABELS[dealt] == 0]
    assert np.unique(majority).size == majority.size


@pytest.mark.parametrize("case", MEMORY_CASES)
def test_in_memory_batches_each_worker_its_ranks_share(results, case):
    torch = pytest.importorskip("torch")  # noqa: F841
    from torch_impl.data import BalancedBatchSampler

    steps = worker.IN_MEMORY["steps_per_epoch"]
    for index in range(2):
        rows = results[index][f"{case}/rows"]
        assert rows.shape == (steps, worker.PER_REPLICA)
        np.testing.assert_array_equal(results[index][f"{case}/global_rows"], np.full(steps, 2 * worker.PER_REPLICA))
        assert (worker.LABELS[rows].sum(axis=1) == worker.PER_REPLICA // 2).all()  # 4 + 4 in every batch
        # worker i's replica receives what torch rank i of 2 receives
        expected = np.array(list(BalancedBatchSampler(worker.LABELS, worker.PER_REPLICA, num_replicas=2, rank=index,
                                                      **worker.IN_MEMORY)))
        np.testing.assert_array_equal(rows, expected)
    # 480 majority draws of about 1,800: disjoint across workers (the ~200 minority records
    # wrap around, as they must)
    a, b = (results[i][f"{case}/rows"].ravel() for i in range(2))
    a, b = a[worker.LABELS[a] == 0], b[worker.LABELS[b] == 0]
    assert np.unique(np.concatenate([a, b])).size == a.size + b.size
