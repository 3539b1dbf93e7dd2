"""The environment a child process that handles untrusted work starts with: what Python and its libraries need.

The server's own environment holds the API key, storage credentials and database passwords; a process that
parses a hostile file or runs code a model wrote must not be able to read them, so children get an allow-list,
never a copy with some names removed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# Passed on when set: where programs and temporary files are, the locale, and how Python starts.
PASSED = (
    "PATH",
    "HOME",
    "TMPDIR",
    "TMP",
    "TEMP",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_NUMERIC",
    "LC_TIME",
    "LC_COLLATE",
    "LC_MONETARY",
    "LC_MESSAGES",
    "TZ",
    "TZDIR",
    "LD_LIBRARY_PATH",
    "PYTHONPATH",
    "PYTHONHASHSEED",
    "PYTHONIOENCODING",
    "PYTHONUTF8",
    "PYTHONDONTWRITEBYTECODE",
    "VIRTUAL_ENV",
    "PYENV_ROOT",
    "PYENV_VERSION",
    "MPLBACKEND",
    "MPLCONFIGDIR",
)
# Arrow, DuckDB, OpenMP and the BLAS libraries would otherwise start a thread per core in every child.
THREADS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
DEFAULT_THREADS = "2"


def minimal(extra: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allow-listed part of `environ` (default: this process's), thread counts capped, then `extra`."""
    source = os.environ if environ is None else environ
    env = {name: source[name] for name in PASSED if name in source}
    env.update({name: source.get(name, DEFAULT_THREADS) for name in THREADS})
    env.update(extra or {})
    return env
