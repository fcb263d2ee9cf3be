# Two entry points on a fresh machine: `make demo` (the main job) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: demo test lint install install-test clean

$(PY):
	python3 -m venv $(VENV)

# `.[analysis]`: the services need only `.`; calcbench run, report and compare need pandas
# and matplotlib too.
$(VENV)/.installed: $(PY) pyproject.toml constraints.txt
	$(PIP_INSTALL) -e '.[analysis]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP_INSTALL) -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(VENV)/bin/calcbench run

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Two workers; modules that start whole stacks share one xdist group, so they never run
# against each other on this 2-core machine.
test: lint
	$(PY) -m pytest -n 2 --dist loadgroup --durations=15

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
