"""What every command needs first: its exit codes, its error, and the app's settings with the key checked."""

from __future__ import annotations

import os
from collections.abc import Mapping

from lib.settings import Settings, SettingsError, load_settings, read_secrets

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A problem the user must fix before anything can run; the message says what and how."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def cli_settings(emulator: bool, environ: Mapping[str, str] | None = None, need_key: bool = True) -> Settings:
    """The app's settings; with `emulator`, pointed at an in-process emulator like the app's offline demo (and
    its store); `need_key` False: for reading the store only."""
    try:
        settings = load_settings(read_secrets(), os.environ if environ is None else environ)
    except SettingsError as err:
        raise CliError(f"{err.title}: {err.message}\n{err.hint}") from err
    if emulator:
        from lib import demo  # starts the emulator: only for --emulator

        return settings.for_demo(demo.demo_url() if need_key else "")
    if need_key and not settings.has_key:
        raise CliError(
            "No Anthropic API key is configured. Set the ANTHROPIC_API_KEY environment variable or add it to "
            "`.streamlit/secrets.toml`, or pass --emulator to use the local emulator (not Claude)."
        )
    return settings
