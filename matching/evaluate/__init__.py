"""Evaluation: precision, recall and blocking recall against truth or recorded outcomes."""

from matching.evaluate.truth import evaluate_run, latest_runs

__all__ = ["evaluate_run", "latest_runs"]
