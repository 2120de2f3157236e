"""The document index: Qdrant store, embeddings, hybrid search, filters and citations."""
