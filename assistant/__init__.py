"""The agent: settings, model selection, conversations, approvals and the `assistant` CLI."""
