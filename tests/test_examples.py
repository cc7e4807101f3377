"""The examples, run with reduced sizes: their outputs, never their speed.

Each example is imported from its file and run through `main(argv)` (one TensorFlow/torch
import for the whole file); torch_train.py also runs as a script, in a subprocess, to check
the command line users type. The Keras parts of imbalanced_2d.py and keras_fit.py use tf.data
(needs_tf_backend); multilabel_512.py's Keras part trains from NumPy arrays and, for its
sampler rows, from tf_impl.data.balanced_batches (fit on the dataset on tensorflow, on a
generator of its passes elsewhere), so it is marked `keras` and runs again on Keras's torch
and jax backends. longtail_multiclass.py runs in the tensorflow pass only (see its test).
"""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import needs_tf_backend

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def in_unit_interval(value):
    return 0.0 <= value <= 1.0


@needs_tf_backend
def test_imbalanced_2d(tmp_path):
    ex = load("imbalanced_2d")
    summary = ex.main(["--n-train", "3000", "--n-test", "3000", "--sweep", "4,128", "--out-dir", str(tmp_path)])

    png = tmp_path / "imbalanced_2d.png"
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    report = (tmp_path / "results.md").read_text()
    for word in ex.METHODS + ("Keras", "PyTorch", "accuracy", "balanced acc.", "TPR", "log loss", "batch size"):
        assert word in report, word
    assert json.loads((tmp_path / "results.json").read_text())["methods"].keys() == set(ex.METHODS)

    methods = summary["methods"]
    for method in ex.METHODS:
        for fw in ex.FRAMEWORKS:
            scores = methods[method][fw]["metrics"]
            assert set(scores) == set(ex.METRICS)
            assert all(in_unit_interval(v) for k, v in scores.items() if k != "log_loss"), (method, fw, scores)
            assert scores["log_loss"] > 0, (method, fw, scores)
    for fw in ex.FRAMEWORKS:
        standard = methods["standard"][fw]["metrics"]["true_positive_rate"]
        for method in ("balanced", "weighted", "focal"):
            assert methods[method][fw]["metrics"]["true_positive_rate"] > standard, (method, fw)
        # decisions after training: the prior shift mends the balanced run's probabilities (log
        # loss on the natural-prior test split); the tuned threshold the standard run's balanced accuracy
        shifted, balanced = (methods[m][fw]["metrics"] for m in ("balanced + prior shift", "balanced"))
        assert shifted["log_loss"] < balanced["log_loss"], (fw, shifted, balanced)
        tuned, plain = (methods[m][fw]["metrics"] for m in ("standard + tuned threshold", "standard"))
        assert tuned["balanced_accuracy"] > plain["balanced_accuracy"], (fw, tuned, plain)
        assert tuned["log_loss"] == plain["log_loss"]  # a threshold changes no probability
    # Same initial weights, same batches: the two columns agree up to float32 round-off.
    assert summary["max_weight_gap"] < 1e-4
    for method in ex.METHODS:
        for name in ex.METRICS:
            k, t = (methods[method][fw]["metrics"][name] for fw in ex.FRAMEWORKS)
            assert abs(k - t) <= 2.0 / 3000, (method, name, k, t)  # at most a borderline test point
    assert [row["batch_size"] for row in summary["sweep"]] == [4, 128]
    for row in summary["sweep"]:
        for fw in ex.FRAMEWORKS:
            assert row[fw]["train_bce"] > summary["optimum"]["train_bce"] - 1e-9  # the optimum is a minimum
            assert all(in_unit_interval(v) for k, v in row[fw]["metrics"].items() if k != "log_loss")


def test_imbalanced_2d_rejects_a_split_without_positives(tmp_path):
    ex = load("imbalanced_2d")
    with pytest.raises(ValueError, match="pos-fraction"):
        ex.make_split(100, 0.001, 0)


@needs_tf_backend
def test_keras_fit_reload_evaluates_the_same(tmp_path):
    ex = load("keras_fit")
    summary = ex.main(["--n-train", "4000", "--n-test", "2000", "--epochs", "2", "--out-dir", str(tmp_path)])

    assert os.path.exists(summary["path"]) and summary["path"].endswith(".keras")
    assert summary["before"].keys() == summary["after"].keys()
    for name in ("loss", "balanced_accuracy", "true_positive_rate", "true_negative_rate", "weighted_balanced_accuracy"):
        assert name in summary["before"], name
        assert summary["after"][name] == pytest.approx(summary["before"][name], abs=1e-6)
    assert summary["max_gap"] <= 1e-6 and summary["prediction_gap"] == 0.0
    for name, value in summary["after"].items():
        if name != "loss":
            assert in_unit_interval(value), (name, value)
    assert summary["after"]["balanced_accuracy"] > 0.5  # better than chance on the rare class


def test_torch_train_as_a_script(tmp_path):
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, "torch_train.py"), "--n-train", "4000", "--n-test", "2000",
         "--epochs", "2", "--out-dir", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "balanced batches" in proc.stdout and "| balanced_accuracy |" in proc.stdout
    summary = json.loads((tmp_path / "torch_train.json").read_text())
    assert len(summary["history"]) == 2
    for row in summary["history"]:
        for name, value in row.items():
            if name not in ("epoch", "loss", "test_loss"):
                assert in_unit_interval(value), (name, value)
    assert summary["test"]["balanced_accuracy"] > 0.5  # better than chance on the rare class


@pytest.mark.keras
def test_multilabel_512(tmp_path):
    ex = load("multilabel_512")
    labels = 64
    summary = ex.main(["--n-train", "3000", "--n-test", "1500", "--num-labels", str(labels), "--epochs", "2",
                       "--out-dir", str(tmp_path)])

    report = (tmp_path / "multilabel_512.md").read_text()
    for word in ex.LOSSES + ("Keras", "PyTorch", "mAP", "recall rare", "recall frequent"):
        assert word in report, word
    results = summary["results"]
    assert results.keys() == set(ex.LOSSES)
    for loss in ex.LOSSES:
        assert results[loss].keys() == set(ex.FRAMEWORKS)
        for fw in ex.FRAMEWORKS:
            r = results[loss][fw]
            for name in ("mAP", "recall_all") + tuple(f"recall_{g}" for g in ex.GROUPS):
                assert in_unit_interval(r[name]), (loss, fw, name, r[name])
            assert 0.0 <= r["predicted_per_sample"] <= labels
        # Same initial weights and batches; Adam differs only in where epsilon enters.
        k, t = (results[loss][fw]["mAP"] for fw in ex.FRAMEWORKS)
        assert abs(k - t) < 0.02, (loss, k, t)
    for fw in ex.FRAMEWORKS:
        # n_neg / n_pos per label buys recall (with false positives) on every third of the labels.
        for g in ex.GROUPS:
            assert results["pos_weight"][fw][f"recall_{g}"] > results["bce"][fw][f"recall_{g}"], (fw, g)
    assert summary["positives_per_sample"] == pytest.approx(5.0, rel=0.2)


def test_multilabel_data_keeps_a_positive_for_every_label():
    ex = load("multilabel_512")
    args = ex.parse_args(["--n-train", "500", "--n-test", "100"])
    (x, y), (x_test, y_test) = ex.make_data(args)
    assert x.shape == (500, 32) and y.shape == (500, 512) and x_test.shape == (100, 32)
    assert y.sum(axis=0).min() >= 1  # compute_pos_weight would refuse a label without positives
    assert set(np.unique(y)) <= {0.0, 1.0}
    freq = ex.label_frequencies(512, 5.0)
    assert freq.sum() == pytest.approx(5.0) and np.all(np.diff(freq) < 0)  # a long tail


def test_multilabel_average_precision_is_sklearns():
    from sklearn.metrics import average_precision_score

    ex = load("multilabel_512")
    rng = np.random.default_rng(0)
    y = (rng.random((400, 30)) < np.linspace(0.01, 0.4, 30)).astype(np.float32)
    y[0] = 1.0  # every column has a positive
    scores = rng.normal(size=(400, 30)) + y
    scores[:, :5] = np.round(scores[:, :5])  # ties: the scikit-learn path
    np.testing.assert_allclose(ex.average_precision(y, scores),
                               [average_precision_score(y[:, j], scores[:, j]) for j in range(30)], rtol=1e-12)
    assert np.mean(ex.average_precision(y, scores)) == pytest.approx(
        average_precision_score(y, scores, average="macro"), rel=1e-12)


def test_longtail_multiclass(tmp_path):
    # Unmarked: the tensorflow pass only. On Keras's jax backend fit cannot store Seesaw's
    # counts (README, "Seesaw's state"), so that row would not be the torch row's twin there.
    ex = load("longtail_multiclass")
    per_class = 50
    summary = ex.main(["--n-max", "100", "--n-test-per-class", str(per_class), "--epochs", "6", "--drw-epoch", "4",
                       "--out-dir", str(tmp_path)])

    report = (tmp_path / "longtail_multiclass.md").read_text()
    for word in ex.LOSSES + ex.THIRDS + ("Keras", "PyTorch", "accuracy", "epoch 4"):
        assert word in report, word
    assert json.loads((tmp_path / "longtail_multiclass.json").read_text())["results"].keys() == set(ex.LOSSES)
    counts = summary["samples_per_class"]
    assert counts[0] == 100 and counts[-1] == 1 and counts == sorted(counts, reverse=True)  # ratio 100
    results = summary["results"]
    assert results.keys() == set(ex.LOSSES)
    n_test = per_class * len(counts)
    for loss in ex.LOSSES:
        assert results[loss].keys() == set(ex.FRAMEWORKS)
        for fw in ex.FRAMEWORKS:
            r = results[loss][fw]
            assert r["finite"], (loss, fw)
            for name in ("accuracy",) + tuple(f"accuracy_{t}" for t in ex.THIRDS):
                assert in_unit_interval(r[name]), (loss, fw, name, r[name])
            # a balanced test split: overall accuracy is the mean of the thirds' class means
            thirds = summary["thirds"]
            mean = sum(r[f"accuracy_{t}"] * len(thirds[t]) for t in ex.THIRDS) / len(counts)
            assert r["accuracy"] == pytest.approx(mean, abs=1e-12)
            assert r["accuracy"] > 2.0 / len(counts), (loss, fw, r)  # learnt something (chance: 1/K)
        # Same initial weights and batches, and SGD with momentum is the same update in both:
        # the columns differ by float32 round-off, which flips at most a few borderline test
        # points (LDAM multiplies cosine logits by 30, so its round-off reaches further).
        k, t = (results[loss][fw]["accuracy"] for fw in ex.FRAMEWORKS)
        assert abs(k - t) <= (10.0 if loss == "ldam_drw" else 3.0) / n_test, (loss, k, t)


def test_longtail_data_is_long_tailed_and_the_test_split_balanced():
    ex = load("longtail_multiclass")
    np.testing.assert_array_equal(ex.class_sizes(12, 500, 100.0)[[0, -1]], [500, 5])
    args = ex.parse_args(["--n-max", "200", "--n-test-per-class", "30"])
    (x, y), (x_test, y_test), counts = ex.make_data(args)
    assert x.shape == (counts.sum(), 32) and x.dtype == np.float32
    np.testing.assert_array_equal(np.bincount(y, minlength=12), counts)
    np.testing.assert_array_equal(np.bincount(y_test, minlength=12), np.full(12, 30))
    assert counts.max() / counts.min() == pytest.approx(100.0, rel=0.05)
    thirds = ex.class_thirds(counts)
    assert [len(thirds[t]) for t in ex.THIRDS] == [4, 4, 4]
    assert counts[thirds["frequent"]].min() > counts[thirds["medium"]].max() > 0
    assert counts[thirds["medium"]].min() > counts[thirds["rare"]].max()
    w = ex.drw_weights(counts)  # LDAM-DRW's deferred weights: sum K, rarest weighs most
    assert w.sum() == pytest.approx(12.0) and np.argmax(w) == 11


@needs_tf_backend
def test_ray_balanced_training_as_a_script(tmp_path):
    pytest.importorskip("ray.train")
    proc = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, "ray_balanced_training.py"), "--rows", "10000", "--test-rows", "4000",
         "--epochs", "2", "--out-dir", str(tmp_path)],
        capture_output=True, text=True, env=dict(os.environ, PYTHONHASHSEED="0"), timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "ray_balanced_training.json").read_text())
    assert summary["class_counts"] == [9900, 100]
    # two workers, ceil(10000 / (2 * 256)) = 20 steps per epoch each, every batch 128 + 128
    assert [len(p) for p in summary["compositions"]] == [40, 40]
    assert all(p == 128 for positives in summary["compositions"] for p in positives)
    for rank in (0, 1):
        assert f"worker {rank}: 40 batches of 256; rows of class 1 per batch: min 128, max 128" in proc.stdout
    for framework in ("torch", "keras"):
        assert 0.5 < summary["balanced_accuracy"][framework] <= 1.0, summary  # better than chance on the 1 % class
    assert "PyTorch (Ray Train)" in proc.stdout and "Keras (to_tf)" in proc.stdout
