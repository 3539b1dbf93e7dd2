"""The headless command line (`python -m lib.cli`); what each command does is in lib/cli/entry.py."""

from lib.cli.entry import main

__all__ = ["main"]
