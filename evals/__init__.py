"""Evaluation datasets and the runner that applies quality gates."""
