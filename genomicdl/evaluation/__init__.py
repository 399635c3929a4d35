"""Evaluation: predictions on held-out splits, whole-genome prediction, the benchmark tables."""
