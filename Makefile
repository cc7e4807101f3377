# Every target builds .venv from constraints.txt when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0
# jax on the CPU (CI has no GPU); set JAX_PLATFORMS= (empty) to let a CUDA jaxlib pick the GPU.
export JAX_PLATFORMS ?= cpu

# The docstrings' >>> examples, run by every pytest process (tf_impl's on every Keras backend).
DOCTESTS := --doctest-modules tf_impl torch_impl imbalance_core parity_tests

# pytest-xdist workers per pytest process (`make test XDIST=0` runs in one process).
XDIST ?= 2
PYTEST := $(PY) -m pytest -q -p no:cacheprovider $(if $(filter-out 0,$(XDIST)),-n $(XDIST))

.PHONY: test lint demo bench docs venv clean

venv: $(STAMP)

# The first build downloads about 3 GB and takes 3 to 5 minutes; pip's output goes to
# $(VENV)/pip-install.log (its tail is shown if it fails); on a terminal a counter shows progress.
$(STAMP): pyproject.toml constraints.txt imbalance_core/_version.py
	@echo "== Building $(VENV) (first use, or after pyproject.toml or constraints.txt change): about 3 to 5"
	@echo "   minutes and 3 GB: classbalance (editable) with TensorFlow (CPU), Keras, PyTorch (CPU), JAX (CPU),"
	@echo "   Ray, and the test, lint and docs tools, at the versions in constraints.txt"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@log=$(VENV)/pip-install.log; start=$$(date +%s); \
	{ $(PY) -m pip install --disable-pip-version-check -q --upgrade pip && \
	  $(PY) -m pip install --disable-pip-version-check --progress-bar off -c constraints.txt \
	    -e ".[tf,torch,jax,dev,docs,ray]"; } >$$log 2>&1 & pid=$$!; \
	while kill -0 $$pid 2>/dev/null; do \
	  if [ -t 1 ]; then \
	    step=downloading; grep -q '^Installing collected' $$log && step=installing; \
	    printf '\r   %s: %s packages, %s s ' $$step "$$(grep -c '^Collecting' $$log)" "$$(( $$(date +%s) - start ))"; \
	  fi; \
	  sleep 2; \
	done; \
	if wait $$pid; then \
	  printf '\r   done in %s s (pip log: %s)                \n' "$$(( $$(date +%s) - start ))" $$log; \
	else \
	  echo; tail -n 25 $$log; echo "pip install failed; the whole log is $$log"; exit 1; \
	fi
	@touch $(STAMP)

# Process 1: everything, Keras on its tensorflow backend.
# Processes 2 and 3: the Keras tests again (`-m keras`, parity cells included), Keras on its
# torch backend, then on its jax backend. All three always run; the exit status is the first
# failure's.
test: $(STAMP)
	@rc=0; \
	for backend in tensorflow torch jax; do \
	  if [ $$backend = tensorflow ]; then mark=""; else mark="-m keras"; fi; \
	  echo "== pytest, KERAS_BACKEND=$$backend $$mark"; \
	  start=$$(date +%s); \
	  KERAS_BACKEND=$$backend $(PYTEST) $$mark $(DOCTESTS) tests || { r=$$?; [ $$rc -ne 0 ] || rc=$$r; }; \
	  echo "== KERAS_BACKEND=$$backend: $$(( $$(date +%s) - start )) s"; \
	done; \
	echo "== make lint"; \
	$(MAKE) --no-print-directory lint || { r=$$?; [ $$rc -ne 0 ] || rc=$$r; }; \
	exit $$rc

# Lint: ruff over the repository and mypy over the four packages, both configured in
# pyproject.toml; `make test` runs it after the tests, so CI fails when it fails. LINT_PENDING
# names files that do not pass yet: ruff skips them and mypy reports nothing in them
# (`make lint LINT_PENDING=` checks every file).
LINT_PENDING ?=
comma := ,
empty :=
space := $(empty) $(empty)
PACKAGE_SOURCES = $(wildcard imbalance_core/*.py tf_impl/*.py tf_impl/*/*.py torch_impl/*.py torch_impl/*/*.py parity_tests/*.py)
lint: $(STAMP)
	$(VENV)/bin/ruff check $(if $(strip $(LINT_PENDING)),--extend-exclude $(subst $(space),$(comma),$(strip $(LINT_PENDING)))) .
	$(VENV)/bin/mypy --follow-imports=silent $(filter-out $(LINT_PENDING),$(PACKAGE_SOURCES))

# The parity report (summary view; `classbalance-parity --full` for the whole table), then the
# two-class example. Figures: examples/out/parity.png and examples/out/imbalanced_2d.png.
# The example's stderr (TensorFlow's start-up log, which ignores TF_CPP_MIN_LOG_LEVEL) goes to
# examples/out/imbalanced_2d.log and is shown if the example fails.
demo: $(STAMP)
	@echo "== classbalance-parity: every loss, torch and Keras on its tensorflow, torch and jax backends, float64"
	@echo "   to bfloat16, value and gradient against a float64 oracle (a few minutes on 2 cores)"
	@mkdir -p examples/out
	@$(VENV)/bin/classbalance-parity --plot examples/out/parity.png
	@echo "== examples/imbalanced_2d.py: a rare class learned four ways, Keras and PyTorch side by side (about 30 s)"
	@$(PY) examples/imbalanced_2d.py 2>examples/out/imbalanced_2d.log || \
	  { cat examples/out/imbalanced_2d.log; exit 1; }

# `make bench`: the loss and pipeline benchmarks, several minutes. `make bench QUICK=1`: a smoke
# run in under a minute (one loss on 20,000 logits, three rounds; the pipelines on 100,000
# samples, see bench_pipeline.py --quick): it checks that the benchmarks run, its ratios are noisy.
QUICK ?=
bench: $(STAMP)
ifeq ($(QUICK),1)
	$(PY) benchmarks/bench_losses.py --markdown --only WeightedBinaryCrossentropy --elements 20000 --repeats 3
	$(PY) benchmarks/bench_pipeline.py --quick
else
	$(PY) benchmarks/bench_losses.py --markdown
	$(PY) benchmarks/bench_pipeline.py
endif

# The documentation site, built into site/; any warning fails the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) *.egg-info
