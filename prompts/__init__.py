"""Prompt texts kept as files, and the loader that reads them by name."""
