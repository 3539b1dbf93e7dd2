"""GET /v1/models and /v1/models/{id}, shaped for the SDK's first_id/last_id/has_more pages."""

from __future__ import annotations

from typing import Any

from .errors import ApiError, parse_limit

# The last one cannot use the code execution tool (capabilities.server_tools.code_execution.supported false).
DEFAULT_MODELS = ["claude-opus-4-8", "claude-sonnet-4-8", "claude-haiku-4-5", "claude-3-haiku-20240307"]
_KNOWN = {
    "claude-opus-4-8": ("Claude Opus 4.8", "2026-09-24T00:00:00Z"),
    "claude-sonnet-4-8": ("Claude Sonnet 4.8", "2026-09-24T00:00:00Z"),
    "claude-haiku-4-5": ("Claude Haiku 4.5", "2025-10-15T00:00:00Z"),
    "claude-3-haiku-20240307": ("Claude Haiku 3", "2024-03-07T00:00:00Z"),
}
# Models from before the code execution tool, thinking and effort (values are guesses; see GUESSES.md).
_OLD_MODELS = {"claude-3-haiku-20240307"}
# Models whose code cannot call the request's other tools: the docs say Haiku 4.5 runs code_execution_20260120
# like code_execution_20250825, without programmatic tool calling.
_NO_TOOLS_FROM_CODE = _OLD_MODELS | {"claude-haiku-4-5"}
_LINES = ("opus", "sonnet", "haiku")


def _yes(supported: bool) -> dict[str, bool]:
    return {"supported": supported}


def capabilities(model_id: str) -> dict[str, Any]:
    """The ModelCapabilities object (SDK 2.13 shape, every required key) for an id."""
    new = model_id not in _OLD_MODELS
    return {
        "batch": _yes(True),
        "citations": _yes(True),
        "code_execution": _yes(calls_tools_from_code(model_id)),
        "context_management": {
            "supported": new,
            "clear_thinking_20251015": _yes(new),
            "clear_tool_uses_20250919": _yes(new),
            "compact_20260112": _yes(new),
        },
        "effort": {
            "supported": new,
            "low": _yes(new),
            "medium": _yes(new),
            "high": _yes(new),
            "max": _yes(new),
            "xhigh": _yes(False),
        },
        "image_input": _yes(True),
        "pdf_input": _yes(new),
        "server_tools": {"supported": new, "code_execution": _yes(new), "web_search": _yes(new)},
        "structured_outputs": _yes(new),
        "thinking": {
            "supported": new,
            "types": {
                "adaptive": _yes(new),
                "between_tools": _yes(new),
                "disabled": _yes(True),
                "enabled": _yes(new),
            },
        },
    }


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
        "capabilities": capabilities(model_id),
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


def supports_code_execution(model_id: str) -> bool:
    """Whether a model can use the code execution tool."""
    return model_id not in _OLD_MODELS


def calls_tools_from_code(model_id: str) -> bool:
    """Whether a model's code can call the request's client tools (programmatic tool calling)."""
    return not any(model_id.startswith(m) for m in _NO_TOOLS_FROM_CODE)
