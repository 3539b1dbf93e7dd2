"""Runs code steps for real inside a container's working directory."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib import child_env

from .script import OUTPUTS


@dataclass
class ExecResult:
    """What a code step printed and how it ended."""

    stdout: str
    stderr: str
    return_code: int
    timed_out: bool = False


def python_bin_dir(root: Path) -> Path:
    """A directory with `python3`/`python` pointing at this interpreter, for bash steps."""
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in ("python3", "python"):
        link = bin_dir / name
        if not link.exists():
            link.symlink_to(sys.executable)
    return bin_dir


def process_env(cwd: Path, bin_dir: Path) -> dict[str, str]:
    """The environment code runs with in a container: what the code needs, and nothing of the app's (no API
    key, no storage or database credentials)."""
    return child_env.minimal(
        {
            "MPLBACKEND": "Agg",
            "OUTPUT_DIR": str(cwd / OUTPUTS),
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )


def _run(argv: list[str], stdin: str | None, cwd: Path, bin_dir: Path, timeout: float) -> ExecResult:
    # A new session lets a timeout kill bash and everything it started.
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=process_env(cwd, bin_dir),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(stdin.encode() if stdin is not None else None, timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        return ExecResult(out.decode(errors="replace"), err.decode(errors="replace"), -9, timed_out=True)
    return ExecResult(out.decode(errors="replace"), err.decode(errors="replace"), proc.returncode)


def run_python(code: str, cwd: Path, bin_dir: Path, timeout: float) -> ExecResult:
    """Run Python source with this interpreter, cwd = the container."""
    return _run([sys.executable, "-"], code, cwd, bin_dir, timeout)


def run_bash(command: str, cwd: Path, bin_dir: Path, timeout: float) -> ExecResult:
    """Run a bash command line, cwd = the container."""
    return _run(["bash", "-c", command], None, cwd, bin_dir, timeout)


def heredoc(code: str) -> str:
    """`python3 - <<'EOF' … EOF` with a marker that cannot clash with the code."""
    marker = "EOF"
    while marker in code.splitlines():
        marker += "_"
    return f"python3 - <<'{marker}'\n{code.rstrip(chr(10))}\n{marker}"


Snapshot = dict[str, tuple[int, int]]


def snapshot_outputs(cwd: Path) -> Snapshot:
    """Relative path -> (mtime_ns, size) of every file under outputs/."""
    root = cwd / OUTPUTS
    snap: Snapshot = {}
    if root.is_dir():
        for path in root.rglob("*"):
            if path.is_file():
                st = path.stat()
                snap[str(path.relative_to(cwd))] = (st.st_mtime_ns, st.st_size)
    return snap


def changed_outputs(before: Snapshot, after: Snapshot) -> list[str]:
    """Files created or changed between two snapshots, in name order."""
    return sorted(p for p, sig in after.items() if before.get(p) != sig)


class EditError(Exception):
    """A text-editor failure reported as an error block."""

    def __init__(self, error_code: str, message: str) -> None:
        self.error_code = error_code
        super().__init__(message)


def _resolve(cwd: Path, path: str) -> Path:
    # Absolute sandbox paths are mapped under the container dir; nothing may escape it.
    target = (cwd / path.lstrip("/")).resolve() if not path.startswith(str(cwd)) else Path(path).resolve()
    if not target.is_relative_to(cwd.resolve()):
        raise EditError("invalid_tool_input", f"Path `{path}` is outside the working directory.")
    return target


def edit_view(cwd: Path, path: str) -> dict[str, Any]:
    """Text-editor `view` result for a real file."""
    target = _resolve(cwd, path)
    if not target.is_file():
        raise EditError("file_not_found", f"File not found: {path}")
    data = target.read_bytes()
    suffix = target.suffix.lower()
    if suffix in (".png", ".jpg", ".jpeg", ".gif", ".webp"):
        return {
            "type": "text_editor_code_execution_view_result",
            "file_type": "image",
            "content": base64.b64encode(data).decode(),
        }
    if suffix == ".pdf":
        return {
            "type": "text_editor_code_execution_view_result",
            "file_type": "pdf",
            "content": base64.b64encode(data).decode(),
        }
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines()
    return {
        "type": "text_editor_code_execution_view_result",
        "file_type": "text",
        "content": text,
        "num_lines": len(lines),
        "start_line": 1,
        "total_lines": len(lines),
    }


def edit_create(cwd: Path, path: str, file_text: str) -> dict[str, Any]:
    """Text-editor `create` result; writes the file."""
    target = _resolve(cwd, path)
    existed = target.exists()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(file_text, encoding="utf-8")
    return {"type": "text_editor_code_execution_create_result", "is_file_update": existed}


def edit_str_replace(cwd: Path, path: str, old: str, new: str) -> dict[str, Any]:
    """Text-editor `str_replace` result with a small line diff; edits the file."""
    target = _resolve(cwd, path)
    if not target.is_file():
        raise EditError("file_not_found", f"File not found: {path}")
    text = target.read_text(encoding="utf-8", errors="replace")
    count = text.count(old) if old else 0
    if count != 1:
        why = "was not found" if count == 0 else f"appears {count} times"
        raise EditError("invalid_tool_input", f"String to replace {why} in {path}.")
    start = text[: text.index(old)].count("\n") + 1
    updated = text.replace(old, new, 1)
    target.write_text(updated, encoding="utf-8")
    # Diff whole lines, as the real tool does, not just the replaced substring.
    old_lines = text.split("\n")[start - 1 : start + old.count("\n")]
    new_lines = updated.split("\n")[start - 1 : start + new.count("\n")]
    return {
        "type": "text_editor_code_execution_str_replace_result",
        "old_start": start,
        "old_lines": len(old_lines),
        "new_start": start,
        "new_lines": len(new_lines),
        "lines": [f"-{line}" for line in old_lines] + [f"+{line}" for line in new_lines],
    }
