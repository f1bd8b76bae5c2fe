"""The benchmark suite: `make bench` (python -m benchmarks). Prints figures and ratios."""
