"""The FastAPI service: SSE chat, OpenAI-compatible endpoint, approvals, widget and Slack."""
