"""Builds the Anthropic SDK client from settings."""

from __future__ import annotations

import functools

import anthropic

from lib.settings import Settings


class MissingKeyError(RuntimeError):
    """No API key is configured."""


def make_client(settings: Settings) -> anthropic.Anthropic:
    """The SDK client for these settings, shared by every turn that uses them; raises MissingKeyError without a key."""
    if not settings.api_key:
        raise MissingKeyError(
            "No Anthropic API key is set. Add ANTHROPIC_API_KEY to .streamlit/secrets.toml or the "
            "environment, type one in the sidebar, or start the offline demo."
        )
    return _client(settings.api_key, settings.base_url, settings.max_retries, settings.request_timeout)


@functools.lru_cache(maxsize=32)
def _client(api_key: str, base_url: str | None, max_retries: int, timeout: float) -> anthropic.Anthropic:
    # one client keeps its connection pool warm, so a turn does not pay for a new client and TLS handshake
    return anthropic.Anthropic(
        api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=anthropic.Timeout(timeout, connect=10.0)
    )
