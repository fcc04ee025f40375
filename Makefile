# make run   install the app's dependencies and start it on http://127.0.0.1:7860
# make test  install everything the tests need (Debian packages included) and run them all
PYTHON ?= python3
VENV := .venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo)

.PHONY: run test system-packages

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

system-packages:
	@if command -v apt-get >/dev/null; then \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(PACKAGES) >/dev/null; \
	else echo "no apt-get: install $(PACKAGES) with your package manager"; fi

run: PACKAGES = $(shell cat packages.txt)
run: $(VENV)/bin/python system-packages
	$(VENV)/bin/pip install --quiet -r requirements.txt
	$(VENV)/bin/python app.py

test: PACKAGES = $(shell cat packages.txt) chromium sox
test: $(VENV)/bin/python system-packages
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	$(VENV)/bin/python -m pytest
