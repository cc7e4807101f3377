"""Claims of the documentation checked against the code: the migration page's documented
differences and the conventions page's reduction table against the parity suite's case table,
the class-balanced anchor claim against Cui et al.'s reference, and the decision recipes' results.
(That every ```python block runs is tests/test_doc_examples.py.)"""

import pathlib
import re

import numpy as np
import pytest

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"
MIGRATION = DOCS / "migration.md"
CONVENTIONS = DOCS / "conventions.md"
LOSSES = DOCS / "losses.md"
DECISIONS = DOCS / "decisions.md"
RAY_DATA = DOCS / "ray_data.md"
README = DOCS.parent / "README.md"


def _section(page: pathlib.Path, heading: str) -> str:
    text = page.read_text()
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start:end if end > 0 else None]


def _snippet(page: pathlib.Path, heading: str) -> str:
    """The first ```python block after `heading`."""
    return re.search(r"```python\n(.*?)```", _section(page, heading), re.S).group(1)


def _differences() -> dict:
    """The migration page's "Known, documented differences" bullets, keyed by the words before the colon."""
    block = _section(MIGRATION, "## Known, documented differences")
    bullets = re.findall(r"^- (.*?)(?=^- |\Z|^\S)", block, re.S | re.M)
    return {b.split(":")[0].strip(): " ".join(b.split()) for b in bullets if ":" in b.split(".")[0]}


def _run_torch(cases, dtypes=("float64",)):
    from parity_tests.frameworks import TorchFramework
    from parity_tests.harness import run_cell

    fw = TorchFramework()
    return [run_cell(c, fw, "cpu", d) for c in cases for d in dtypes]


def _check_every_target_ignored(text):
    import torch

    from parity_tests.cases import ALL_CASES
    from torch_impl.losses import WeightedCategoricalCrossentropy

    assert "NaN" in text and "ours is 0" in text
    cases = [c for c in ALL_CASES if c.index_target and "ignore_index" in c.kwargs
             and np.all(c.inputs()[1] == c.kwargs["ignore_index"])]
    assert cases, "no parity case has every target ignored"
    assert all(r.passed for r in _run_torch(cases))
    x, t = (torch.tensor(a) for a in cases[0].inputs())
    kw = dict(ignore_index=cases[0].kwargs["ignore_index"])
    assert torch.isnan(torch.nn.CrossEntropyLoss(**kw)(x, t))
    assert float(WeightedCategoricalCrossentropy(**kw)(x, t)) == 0.0


def _check_probability_clipping(text):
    from imbalance_core import loss_reference
    from parity_tests.cases import ALL_CASES

    low, high = re.search(r"clipped to\s+\[([0-9e.-]+), 1 - ([0-9e.-]+)\]", text).groups()
    assert float(low) == float(high) == loss_reference.EPSILON
    fns = {c.fn for c in ALL_CASES if c.kwargs.get("from_logits") is False}
    assert {"weighted_binary_crossentropy", "categorical_focal_loss"} <= fns, fns  # both families
    assert all(r.passed for r in _run_torch([c for c in ALL_CASES if c.kwargs.get("from_logits") is False]))


def _check_label_smoothing(text):
    from parity_tests import reference
    from parity_tests.cases import ALL_CASES

    assert "y(1-e) + e/2" in text and "q(1-e) + e/K" in text
    smoothed = [c for c in ALL_CASES if c.kwargs.get("label_smoothing")]
    assert {c.fn for c in smoothed} >= {"weighted_binary_crossentropy", "weighted_categorical_crossentropy"}
    assert all(r.passed for r in _run_torch(smoothed))
    # the oracle's smoothing is the README's: a target of 1 becomes 1 - e/2 (sigmoid), q_c (1-e) + e/K (softmax)
    x = np.zeros((1, 4))
    e = 0.2
    got = reference.weighted_binary_crossentropy(x, np.ones((1, 4)), label_smoothing=e)
    np.testing.assert_allclose(got, np.log(2.0))  # at x = 0 every target gives log 2
    got = reference.weighted_categorical_crossentropy(np.array([[2.0, 0.0, 0.0, 0.0]]), np.array([0]), label_smoothing=e)
    logp = np.array([2.0, 0, 0, 0]) - np.log(np.exp(2.0) + 3)
    np.testing.assert_allclose(got, -((1 - e) * logp[0] + e / 4 * logp.sum()))


def _check_weighted_means(text):
    from parity_tests.cases import REDUCTION_CASES

    assert "divides by\n  the number of samples" in text or "divides by the number of samples" in text
    weighted_means = [c for c in REDUCTION_CASES if c.sample_weight is not None and c.reduction[1] == "mean"]
    assert {c.fn for c in weighted_means} == {c.fn for c in REDUCTION_CASES}  # every loss
    assert all(r.passed for r in _run_torch(weighted_means, dtypes=("float64", "float32"))), "a weighted mean drifted"


DIFFERENCE_CHECKS = {
    "Every target ignored": _check_every_target_ignored,
    "Probability clipping": _check_probability_clipping,
    "Label smoothing": _check_label_smoothing,
    "Weighted means": _check_weighted_means,
}


@pytest.mark.parametrize("claim", sorted(DIFFERENCE_CHECKS))
def test_documented_difference_is_checked_against_the_case_table(claim):
    pytest.importorskip("torch")
    differences = _differences()
    assert claim in differences, f"docs/migration.md no longer documents {claim!r}: {sorted(differences)}"
    DIFFERENCE_CHECKS[claim](differences[claim])


def test_migration_table_reductions_are_the_parity_suites_cases():
    """Each reduction row of the migration table is a set of parity cases: every loss class x
    (Keras, torch) reduction pair x without/with sample_weight, and Keras "sum" = torch "sum" / C
    in the sigmoid family by the oracle those cases run against."""
    from imbalance_core import loss_specs
    from parity_tests import reference
    from parity_tests.cases import REDUCTION_CASES, REDUCTION_PAIRS

    table = _section(CONVENTIONS, "## Reductions")
    assert '| sigmoid family, sum | = torch `"sum"` / C |' in table
    assert '| softmax family, mean / sum / none | = torch\'s, exactly |' in table
    assert set(REDUCTION_PAIRS) == {("none", "none"), ("sum", "sum"), ("sum_over_batch_size", "mean")}
    covered = {(c.fn, c.reduction, c.sample_weight is not None) for c in REDUCTION_CASES}
    losses = {c.fn for c in REDUCTION_CASES}
    # every loss class (the stateful SeesawLoss aside: its class counts each call's targets into
    # its state, tested in test_longtail_state.py)
    from parity_tests.matrix import class_name
    from tests import conformance

    classes = {r.name for r in conformance.LOSSES if not r.stateful}
    assert {class_name(fn) for fn in losses} == classes, classes ^ {class_name(fn) for fn in losses}
    assert covered == {(fn, pair, weighted) for fn in losses for pair in REDUCTION_PAIRS for weighted in (False, True)}
    case = next(c for c in REDUCTION_CASES if loss_specs.spec(c.fn).family == "sigmoid")
    x, y = case.inputs()
    keras_sum, torch_sum = (reference.class_loss(case.fn, x, y, convention=conv, reduction="sum", **case.kwargs)
                            for conv in ("keras", "torch"))
    np.testing.assert_allclose(keras_sum, torch_sum / x.shape[-1], rtol=1e-12)


def test_class_balanced_claim_k_times_cui_reference():
    """docs/losses.md's anchor table (made from the declarations' `anchor`): "our mean = K x
    CB_loss" for base="sigmoid"; equal for "focal" (Cui et al.'s reference)."""
    torch = pytest.importorskip("torch")
    from imbalance_core import loss_specs
    from tests.test_loss_family import _cui_reference
    from torch_impl.losses import ClassBalancedLoss

    assert "<!-- anchor-table -->" in LOSSES.read_text()
    row = loss_specs.spec("class_balanced_loss").anchor
    assert "our mean = K x `CB_loss`" in row and "focal, equal" in row
    k, counts = 5, np.array([500.0, 120.0, 30.0, 4.0, 1.0])
    rng = np.random.default_rng(0)
    x, t = torch.tensor(rng.normal(size=(12, k)) * 2), torch.tensor(rng.integers(0, k, 12))
    for base, factor in (("sigmoid", k), ("focal", 1)):
        ours = float(ClassBalancedLoss(samples_per_class=counts, beta=0.999, base=base)(x, t))
        theirs = float(_cui_reference(t, x, counts, k, base, 0.999, 2.0))
        np.testing.assert_allclose(ours, factor * theirs, rtol=1e-10)


@pytest.mark.keras
def test_keras_decisions_snippet_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    heading = "## Prior correction and a tuned threshold in Keras"
    exec(compile(_snippet(DECISIONS, heading), f"docs/decisions.md: {heading}", "exec"), namespace)
    assert 0.5 < float(namespace["score"]) <= 1.0
    assert namespace["train_prior"] == pytest.approx(0.5, abs=1e-3)
    assert 0.0 <= float(namespace["tnr_threshold"]) <= 1.0 and 0.0 < float(namespace["tnr"]) <= 1.0


def test_pytorch_decisions_snippet_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    heading = "## Prior correction and a tuned threshold in PyTorch"
    exec(compile(_snippet(DECISIONS, heading), f"docs/decisions.md: {heading}", "exec"), namespace)
    assert 0.5 < float(namespace["score"]) <= 1.0
    assert set(namespace["model"].state_dict()) >= {"1.train_prior", "1.target_prior"}
    assert 0.0 <= float(namespace["tnr_threshold"]) <= 1.0 and 0.0 < float(namespace["tnr"]) <= 1.0


def test_readme_ray_figures_are_the_ray_pages_table():
    """The README's Ray Data figures are those of the table on docs/ray_data.md (one run of
    benchmarks/bench_ray.py) at 2,000,000 rows: rerunning the benchmark means updating both."""
    rows = {}
    for line in _section(RAY_DATA, "## Cost at scale").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| 2,000,000 |"):
            rows[cells[2]] = cells
    readme = _section(README, "## Labelled data on a cluster: Ray Data")
    readme = " ".join(readme.split())
    assert f"`count_classes` at {rows['count_classes'][5]} the rows/s" in readme
    assert f"`balance` plus a full iteration at {rows['balance + iter_batches'][5]}" in readme
    assert f"({rows['balance + iter_batches'][6].split(' (')[0]} at 2 million rows" in readme


def test_readme_performance_figures_are_the_performance_pages():
    """Every ratio in the README's performance summary is a cell of docs/performance.md's loss
    table, and every "A against B us" per-call pair is a row of its per-call table, so that
    rerunning the benchmark means updating both."""
    page = (DOCS / "performance.md").read_text()
    cells = set(re.findall(r"\| (\d+\.\d\dx) \(", page))
    pairs = set(re.findall(r"\| ([\d,]+) / ([\d,]+) us", page))
    readme = " ".join(_section(README, "## Performance").split())
    ratios = re.findall(r"(\d+\.\d\d)(?:-(\d+\.\d\d))?x", readme)
    assert ratios, "no ratio in the README's performance section"
    for low, high in ratios:
        for value in (low, high):
            assert not value or f"{value}x" in cells, f"README ratio {value}x is not a cell of docs/performance.md"
    quoted = re.findall(r"([\d,]+) against ([\d,]+) us", readme)
    assert quoted, "no per-call figure in the README's performance section"
    for ours, anchor in quoted:
        assert (anchor, ours) in pairs, f"README's {ours} against {anchor} us is not in docs/performance.md"


def test_repository_paths_named_by_the_docs_exist():
    """A path the README or a docs page names from the repository root (`tests/...`,
    `examples/...`, a package folder) is a file or folder of the repository, apart from the
    examples' output folder."""
    root = README.parent
    roots = ("tests/", "examples/", "benchmarks/", "docs/", "parity_tests/", "imbalance_core/", "tf_impl/",
             "torch_impl/", ".ci/")
    named = {(page.name, path) for page in [README, *sorted(DOCS.glob("*.md"))]
             for path in re.findall(r"`([\w./-]+)`", page.read_text())
             if path.startswith(roots)
             and not path.startswith("examples/out/")}  # what the examples write when they run
    missing = sorted(f"{page}: {path}" for page, path in named if not (root / path).exists())
    assert not missing, f"the docs name paths that are not in the repository: {missing}"
