"""The examples in README.md and docs/ run as tests: the runner is tests/doc_examples.py."""

pytest_plugins = ("doc_examples",)
