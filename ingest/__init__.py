"""Loaders, chunking and sentiment that feed the retrieval index; the sample corpus."""
