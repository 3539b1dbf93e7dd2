"""GET /v1/models and /v1/models/{id}, shaped for the SDK's first_id/last_id/has_more pages."""

from __future__ import annotations

from typing import Any

from .errors import ApiError, parse_limit

DEFAULT_MODELS = ["claude-opus-4-8", "claude-sonnet-4-8", "claude-haiku-4-5"]
_KNOWN = {
    "claude-opus-4-8": ("Claude Opus 4.8", "2026-09-24T00:00:00Z"),
    "claude-sonnet-4-8": ("Claude Sonnet 4.8", "2026-09-24T00:00:00Z"),
    "claude-haiku-4-5": ("Claude Haiku 4.5", "2025-10-15T00:00:00Z"),
}
_LINES = ("opus", "sonnet", "haiku")


def model_info(model_id: str) -> dict[str, Any]:
    """The ModelInfo object for an id."""
    words = model_id.removeprefix("claude-").split("-")
    name = " ".join(w for w in words if not w.isdigit()).title()
    version = ".".join(w for w in words if w.isdigit())
    display, created = _KNOWN.get(model_id, (f"Claude {name} {version}".strip(), "2026-01-01T00:00:00Z"))
    line = next((ln for ln in _LINES if ln in words), None)
    return {
        "type": "model",
        "id": model_id,
        "display_name": display,
        "created_at": created,
        "lifecycle": "active",
        "line": line,
        "max_input_tokens": 200000,
        "max_tokens": 64000,
    }


def list_models(models: list[str], query: dict[str, list[str]]) -> dict[str, Any]:
    """One page of models; `after_id`/`before_id` cursors and `has_more`."""
    limit = parse_limit(query)
    after, before = query.get("after_id", [None])[0], query.get("before_id", [None])[0]
    if after:
        rest = models[models.index(after) + 1 :] if after in models else []
        page, has_more = rest[:limit], len(rest) > limit
    elif before:
        rest = models[: models.index(before)] if before in models else []
        page, has_more = rest[-limit:], len(rest) > limit
    else:
        page, has_more = models[:limit], len(models) > limit
    return {
        "data": [model_info(m) for m in page],
        "has_more": has_more,
        "first_id": page[0] if page else None,
        "last_id": page[-1] if page else None,
    }


def get_model(models: list[str], model_id: str) -> dict[str, Any]:
    """One model or 404."""
    if model_id not in models:
        raise ApiError(404, f"model: {model_id}")
    return model_info(model_id)
