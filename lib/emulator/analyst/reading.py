"""What the analyst reads back from the code it ran: labelled lines of stdout, and why a step failed."""

from __future__ import annotations

import re

from lib.emulator.script import Progress


def labelled(stdout: str, label: str) -> str | None:
    """The value of the last `Label: value` line the code printed, if any."""
    match = re.search(rf"^{label}: (.*)$", stdout, re.MULTILINE)
    return match.group(1).strip() if match else None


def failure_reason(turn: Progress) -> str:
    """The last line of the last error a code step of the turn printed."""
    errors = [r.stderr.strip().splitlines()[-1] for r in turn.records if r.stderr.strip() and r.return_code]
    return errors[-1] if errors else "the code did not finish"
