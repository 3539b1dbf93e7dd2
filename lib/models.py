"""The model list, from the API with the configured default first."""

from __future__ import annotations

import anthropic

from lib.errors import describe


def available_models(client: anthropic.Anthropic, default: str, limit: int = 100) -> list[str]:
    """Model ids the API offers, with `default` first (kept even if the API does not list it)."""
    try:
        ids = [m.id for m in client.models.list(limit=limit)]
    except anthropic.APIError as exc:
        raise describe(exc) from exc
    return [default] + [i for i in ids if i != default]
