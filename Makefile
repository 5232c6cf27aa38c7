# The README's two commands. Both bootstrap .venv from the package index themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The venv itself (an order-only prerequisite: only its existence counts); each stamp
# below records one install into it.
CREATED := $(BIN)/python
# The runtime dependencies only: all that 'tokenverify demo' imports (its closing audit
# prints a table, which needs neither rich nor matplotlib).
DEMO_STAMP := $(VENV)/.installed-demo
# The development toolchain (the dev extra), which includes the runtime dependencies.
STAMP := $(VENV)/.installed

.PHONY: demo test docs package lint typecheck bench fixtures clean

$(CREATED):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(CREATED)
	@# After 'make test' the dev install already holds everything the demo needs.
	if [ ! -f $(STAMP) ] || [ pyproject.toml -nt $(STAMP) ]; then \
		$(BIN)/python -m pip install --quiet -e .; fi
	touch $(DEMO_STAMP)

$(STAMP): pyproject.toml | $(CREATED)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The command stays in the venv: say so last, since the demo's own hints call it by name.
demo: $(DEMO_STAMP)
	$(BIN)/tokenverify demo
	@printf '\n%s\n%s\n' "tokenverify is installed in $(BIN), not on your PATH: run $(BIN)/tokenverify --help," \
		"or first 'source $(BIN)/activate' (then: tokenverify --help). Examples: README.md, docs/."

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks docs/hooks conftest.py
	$(BIN)/ruff format --check src tests benchmarks docs/hooks conftest.py
	$(BIN)/mypy
	$(BIN)/python -m pytest
	$(MAKE) --no-print-directory docs
	$(MAKE) --no-print-directory package

# The documentation site (mkdocs.yml), strict: a broken link, reference or docstring is an
# error. Into site/ (gitignored); nothing is fetched.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

# Build the sdist and the wheel as a release would (isolated build environment) and check
# that their metadata renders on the index. Built from a copy of the tree in a temporary
# folder: the tree stays clean, and the editable install's egg-info is left behind
# (setuptools would add every file its SOURCES.txt lists, whatever MANIFEST.in says).
package: $(STAMP)
	@out=$$(mktemp -d) && trap 'rm -rf "$$out"' EXIT && mkdir "$$out/tree" && \
	tar -cf - --exclude=./.git --exclude=./.venv --exclude='*.egg-info' --exclude=./build \
		--exclude=./dist --exclude=./site --exclude='./.*_cache' . | tar -xf - -C "$$out/tree" && \
	{ $(BIN)/python -m build --outdir "$$out/dist" "$$out/tree" >"$$out/build.log" 2>&1 \
		|| { cat "$$out/build.log"; exit 1; }; } && \
	$(BIN)/twine check --strict "$$out"/dist/*

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks docs/hooks conftest.py
	$(BIN)/ruff format --check src tests benchmarks docs/hooks conftest.py

typecheck: $(STAMP)
	$(BIN)/mypy

# Every row of the performance page (docs/performance.md), in one run.
bench: $(STAMP)
	$(BIN)/python benchmarks/verify_cost.py
	$(BIN)/python benchmarks/launch.py
	$(BIN)/python benchmarks/audit_bench.py --only cost
	$(BIN)/python benchmarks/audit_bench.py --only scaling

fixtures: $(STAMP)
	$(BIN)/python fixtures/make_fixtures.py

clean:
	rm -rf $(VENV) build site .mypy_cache .pytest_cache .ruff_cache .hypothesis
