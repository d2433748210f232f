# The two commands the README opens with. Both create .venv on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
# SecretFlow's spu wheel for align.protocol = "rr22", unpacked beside the venv's packages, not
# into them: it pins numpy<2 and jax, so it is installed --no-deps and psi/rr22/native.py
# imports only its two native modules (VFL_FASTPSI_DIR names another folder).
FASTPSI := $(VENV)/fastpsi
SPU_VERSION := 0.9.5

.PHONY: demo test setup lint proto fastpsi

demo: $(STAMP)
	$(VENV)/bin/vfl demo

test: $(STAMP) $(FASTPSI)/.installed
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

fastpsi: $(FASTPSI)/.installed

$(FASTPSI)/.installed: | $(STAMP)
	$(PIP) install -q --no-deps --target $(FASTPSI) "spu==$(SPU_VERSION)"
	touch $@

proto: $(STAMP)
	$(PY) scripts/gen_proto.py
