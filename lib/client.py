"""Builds the Anthropic SDK client from settings."""

from __future__ import annotations

import anthropic

from lib.settings import Settings


class MissingKeyError(RuntimeError):
    """No API key is configured."""


def make_client(settings: Settings) -> anthropic.Anthropic:
    """An SDK client for these settings; raises MissingKeyError without a key."""
    if not settings.api_key:
        raise MissingKeyError(
            "No Anthropic API key is set. Add ANTHROPIC_API_KEY to .streamlit/secrets.toml or the "
            "environment, type one in the sidebar, or start the offline demo."
        )
    return anthropic.Anthropic(
        api_key=settings.api_key,
        base_url=settings.base_url,
        max_retries=settings.max_retries,
        timeout=anthropic.Timeout(settings.request_timeout, connect=10.0),
    )
