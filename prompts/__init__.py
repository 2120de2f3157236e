"""Prompt texts kept as files, and the loader that reads them by name."""

from __future__ import annotations

from functools import cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent


@cache
def load(name: str) -> str:
    """The text of ``prompts/<name>.md``; a missing prompt is a packaging bug, so it raises."""
    path = PROMPTS_DIR / f"{name}.md"
    if not path.is_file():
        raise FileNotFoundError(f"no prompt named {name!r} in {PROMPTS_DIR}")
    return path.read_text().strip()


def instructions() -> str:
    """The agent's instructions: the system prompt followed by the tool guidance."""
    return f"{load('system')}\n\n{load('tools')}"
