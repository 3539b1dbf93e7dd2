"""The run worker's own behaviour, without a shared database: its settings and how it shuts down."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.cli.config import cli_settings
from lib.runs import worker


def test_the_worker_reads_the_same_secrets_as_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    (home / ".streamlit").mkdir(parents=True)
    (project / ".streamlit").mkdir(parents=True)
    (home / ".streamlit" / "secrets.toml").write_text('ANALYST_MODEL = "claude-from-home"\nANALYST_MAX_TOKENS = 1234\n')
    (project / ".streamlit" / "secrets.toml").write_text('ANALYST_MODEL = "claude-from-project"\n')
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(project)
    for name in ("ANALYST_MODEL", "ANALYST_MAX_TOKENS"):
        monkeypatch.delenv(name, raising=False)

    settings = worker.worker_settings()
    assert (settings.model, settings.max_tokens) == ("claude-from-project", 1234), "merged, the project's wins"
    assert cli_settings(emulator=False, need_key=False).model == settings.model

    (project / ".streamlit" / "secrets.toml").write_text("ANALYST_MODEL = \n")
    assert worker.worker_settings().model == "claude-from-home", "a broken file is skipped"
    assert "fix its TOML syntax" in capsys.readouterr().err
