"""Benchmarks: ratios against bare Temporal, measured side by side. Not tests."""
