"""The hostile corpus through the upload check and preview: a clear message or a correct preview, never an exception."""

from __future__ import annotations

import re

import pytest

from lib.files.uploads import Accepted, Rejected, inspect_upload
from tests.support.hostile import CASES, Case

LIMIT = 2_000_000_000


def test_corpus_is_large_enough():
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_file(case: Case):
    checked = inspect_upload(case.name, case.make(), LIMIT)
    verdict = checked.verdict
    if case.rejected is not None:
        assert isinstance(verdict, Rejected), (verdict, checked.preview)
        if isinstance(case.rejected, re.Pattern):
            assert case.rejected.search(verdict.reason), verdict.reason
        else:
            assert case.rejected in verdict.reason, verdict.reason
        assert verdict.hint, "every refusal says what to do"
        assert "Traceback" not in verdict.reason
    else:
        assert isinstance(verdict, Accepted), verdict
        assert checked.preview is not None
        assert case.check is not None
        case.check(verdict, checked.preview)
