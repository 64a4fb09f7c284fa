"""Measurement scripts whose results go to docs/benchmarks.md.

Run each from the repository root as a module, e.g. ``python -m benchmarks.storage --write``.
"""
