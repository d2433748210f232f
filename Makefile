# The two commands the README opens with. Both create .venv on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: demo test setup lint proto

demo: $(STAMP)
	$(VENV)/bin/vfl demo

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) scripts/gen_proto.py --check
	$(PY) scripts/test_lanes.py

setup: $(STAMP)

# torch is installed first and pinned to the CPU build that these machines carry locally:
# an unpinned torch pulls several GB of CUDA wheels.
# The ray extra is installed so CI runs the Ray backend's test on a local Ray instance, and
# the heu extra so the homomorphic-backend contract suite runs for HEU as well as gmpy2.
# The dashboards' browser test drives Debian's chromium through its chromedriver.
$(STAMP): pyproject.toml
	test -x /usr/bin/chromedriver || \
		(apt-get update -qq && apt-get install -y -qq chromium chromium-driver) || \
		(echo "install chromium and chromium-driver (apt-get install chromium chromium-driver) and run make again" && false)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev,ray,heu]'
	touch $(STAMP)

proto: $(STAMP)
	$(PY) scripts/gen_proto.py
