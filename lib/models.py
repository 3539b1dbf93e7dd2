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


def calls_tools_from_code(client: anthropic.Anthropic, model: str) -> bool | None:
    """Whether code the model runs can call the request's other tools (programmatic tool calling), from the
    model's `capabilities.code_execution`; None when the API does not say (or cannot be asked)."""
    try:
        info = client.models.retrieve(model)
    except anthropic.APIError:
        return None
    capabilities = getattr(info, "capabilities", None)
    support = getattr(capabilities, "code_execution", None) if capabilities else None
    supported = getattr(support, "supported", None) if support is not None else None
    return supported if isinstance(supported, bool) else None
