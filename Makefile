# Every target builds .venv from constraints.txt when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0

.PHONY: test demo bench venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q --upgrade pip
	$(PY) -m pip install --disable-pip-version-check -q -c constraints.txt -e ".[tf,torch,dev]"
	touch $(STAMP)

# Process 1: everything, Keras on its tensorflow backend.
# Process 2: the Keras tests again (parity cells included), Keras on its torch backend.
test: $(STAMP)
	KERAS_BACKEND=tensorflow $(PY) -m pytest -q -p no:cacheprovider tests parity_tests
	KERAS_BACKEND=torch $(PY) -m pytest -q -p no:cacheprovider -m keras tests parity_tests

demo: $(STAMP)
	$(VENV)/bin/classbalance-parity
	@if [ -f examples/imbalanced_2d.py ]; then $(PY) examples/imbalanced_2d.py; fi

bench: $(STAMP)
	$(PY) benchmarks/bench_losses.py
	@if [ -f benchmarks/bench_pipeline.py ]; then $(PY) benchmarks/bench_pipeline.py; fi

clean:
	rm -rf $(VENV) *.egg-info
