"""The model list, from the API with the configured default first."""

from __future__ import annotations

from typing import Any

import anthropic

from lib.errors import describe


def available_models(client: anthropic.Anthropic, default: str, limit: int = 100) -> list[str]:
    """Model ids the API offers, with `default` first (kept even if the API does not list it)."""
    try:
        ids = [m.id for m in client.models.list(limit=limit) if runs_code(m)]
    except anthropic.APIError as exc:
        raise describe(exc) from exc
    return [default] + [i for i in ids if i != default]


def runs_code(model: Any) -> bool:
    """Whether a listed model supports the code execution tool (assumed when the API reports no capabilities)."""
    capabilities = getattr(model, "capabilities", None)
    tools = getattr(capabilities, "server_tools", None) if capabilities else None
    support = getattr(tools, "code_execution", None) if tools else None
    return bool(getattr(support, "supported", True)) if support is not None else True
