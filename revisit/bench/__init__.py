"""Benchmarks run by `revisit bench NAME --json`: each figure is measured beside its baseline."""
