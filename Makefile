# Every target builds .venv from constraints.txt when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0
# jax on the CPU (CI has no GPU); set JAX_PLATFORMS= (empty) to let a CUDA jaxlib pick the GPU.
export JAX_PLATFORMS ?= cpu

# pytest-xdist workers per pytest process (`make test XDIST=0` runs in one process).
XDIST ?= 2
PYTEST := $(PY) -m pytest -q -p no:cacheprovider $(if $(filter-out 0,$(XDIST)),-n $(XDIST))

.PHONY: test demo bench docs venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt imbalance_core/_version.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q --upgrade pip
	$(PY) -m pip install --disable-pip-version-check -q -c constraints.txt -e ".[tf,torch,jax,dev,docs,ray]"
	touch $(STAMP)

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
	  KERAS_BACKEND=$$backend $(PYTEST) $$mark tests || { r=$$?; [ $$rc -ne 0 ] || rc=$$r; }; \
	  echo "== KERAS_BACKEND=$$backend: $$(( $$(date +%s) - start )) s"; \
	done; \
	exit $$rc

demo: $(STAMP)
	$(VENV)/bin/classbalance-parity
	@if [ -f examples/imbalanced_2d.py ]; then $(PY) examples/imbalanced_2d.py; fi

bench: $(STAMP)
	$(PY) benchmarks/bench_losses.py --markdown
	@if [ -f benchmarks/bench_pipeline.py ]; then $(PY) benchmarks/bench_pipeline.py; fi

# The documentation site, built into site/; any warning fails the build.
docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) *.egg-info
