"""Numbers as a text writes them (1,234.50 · −3 · $4.5k · 12.5% · 2e3 · 1.2 million) and their exact keys:
(digits after the point, integer), canonical and rounded."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator
from typing import NamedTuple

from lib import numbers

MAX_DIGITS = 30  # significant digits of a number that can be traced
MAX_EXPONENT = 60
MAX_WRITTEN = 64  # characters of a number as written, separators, sign and exponent included

Key = tuple[int, int]  # (d, n): the value n / 10**d

SCALES = {"k": 3, "thousand": 3, "m": 6, "mn": 6, "million": 6, "b": 9, "bn": 9, "billion": 9, "tn": 12, "trillion": 12}
# 1.2M, $4.5k, 3bn: a suffix glued to the digits (lib.numbers leaves these alone, the suffix being a letter);
# never starting inside a run of digit groups, which would read a long run once per group
_GLUED = re.compile(
    rf"(?<![\w.])(?<!\d[{numbers.SEPARATORS}])[-+−]?[$€£]?"
    rf"(?:\d{{1,3}}(?:[{numbers.SEPARATORS}]\d{{3}})+|\d+)(?:\.\d+)?(?P<suffix>[kKMB]|bn|mn|tn)(?![\w%])"
)
_GLUED_HINT = re.compile(r"\d(?:[kKMB]|bn|mn|tn)(?![\w%])")
_WORD_STARTS = tuple(f"{space}{c}" for space in " \u00a0" for c in "tTmMbBpP")
_WORD_AFTER = re.compile(r"[ \u00a0](?P<word>thousand|million|billion|trillion|bn|mn|percent|per cent)\b", re.I)
_PLAIN = str.maketrans({",": None, "\u202f": None, "\u00a0": None, "$": None, "€": None, "£": None, "%": None})
_PLAIN.update(str.maketrans({" ": None, "+": None, "−": "-"}))
_PARTS = re.compile(r"(-?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d{1,4}))?")
_POW10 = [10**i for i in range(MAX_DIGITS + 2)]


class Written(NamedTuple):
    """A number as a text writes it: where, as written, its value as (digits shown, integer), and whether it is
    a percent or carries a suffix (1.2M)."""

    start: int
    end: int
    text: str
    key: Key | None  # None: not a number that can be traced (too many digits, an absurd exponent)
    percent: bool = False
    scaled: bool = False


def written_numbers(text: str) -> Iterator[Written]:
    """Every number a text writes, in order: those lib.numbers.NUMBER matches, and those with a k/M/bn suffix
    or a scale word after them."""
    glued = map(_scaled, _GLUED.finditer(text)) if _GLUED_HINT.search(text) else iter(())
    nxt = next(glued, None)
    for m in numbers.NUMBER.finditer(text):
        at = m.start()
        while nxt is not None and nxt.end <= at:
            yield nxt
            nxt = next(glued, None)
        if nxt is None or not nxt.start <= at < nxt.end:  # the "1" of "1,234M" is part of it
            yield _plain(text, m)
    if nxt is not None:
        yield nxt
    yield from glued


def _plain(text: str, m: re.Match[str]) -> Written:
    # The key comes from the digits as written, not from numbers.value_of: tracing compares decimal digits,
    # and shown_key bounds the work (MAX_DIGITS, MAX_EXPONENT) whatever the match.
    written, start, end = m.group(0), m.start(), m.end()
    key = shown_key(written)
    if not text.startswith(_WORD_STARTS, end):
        return Written(start, end, written, key, written[-1] == "%")
    word = _WORD_AFTER.match(text, end)
    if word is None:
        return Written(start, end, written, key, written[-1] == "%")
    name = word["word"].lower()
    if name in ("percent", "per cent"):
        return Written(start, word.end(), text[start : word.end()], key, True)
    return Written(start, word.end(), text[start : word.end()], _scale(key, SCALES[name]), scaled=True)


def keys_of(text: str) -> Iterator[tuple[int, int, Key | None]]:
    """(start, end, key) of every number a text writes, as written_numbers finds them: faster for the common case
    of no k/M/bn suffix (indexing the outputs is most of the work of a trace)."""
    if _GLUED_HINT.search(text):
        return ((w.start, w.end, w.key) for w in written_numbers(text))
    return ((m.start(), m.end(), _key_at(text, m)) for m in numbers.NUMBER.finditer(text))


def _key_at(text: str, m: re.Match[str]) -> Key | None:
    """The key of a NUMBER match, as _plain gives it."""
    return _plain(text, m).key if text.startswith(_WORD_STARTS, m.end()) else shown_key(m.group(0))


def _scaled(m: re.Match[str]) -> Written:
    suffix = m["suffix"]
    key = shown_key(m.group(0)[: -len(suffix)])
    return Written(m.start(), m.end(), m.group(0), _scale(key, SCALES[suffix.lower()]), scaled=True)


def _scale(key: Key | None, power: int) -> Key | None:
    return None if key is None else (key[0] - power, key[1])


def shown_key(text: str) -> Key | None:
    """A number as written (1,234.50 · −3 · $4.5 · 12.5% · 2e3) as (digits after the point, integer): 12.50 is
    (2, 1250), 2e3 is (-3, 2); None when it has more than MAX_DIGITS digits or an absurd exponent."""
    return None if len(text) > MAX_WRITTEN else _shown_key(text)


@functools.lru_cache(maxsize=1 << 16)
def _shown_key(text: str) -> Key | None:
    m = _PARTS.fullmatch(text.strip().translate(_PLAIN))
    if m is None:
        return None
    sign, whole, frac, exp = m.groups()
    frac = frac or ""
    digits = whole + frac
    if not digits or len(digits.lstrip("0")) > MAX_DIGITS:
        return None
    power = int(exp) if exp else 0
    if abs(power) > MAX_EXPONENT:
        return None
    n = int(digits)
    return len(frac) - power, -n if sign else n


def canonical(key: Key) -> Key:
    """The same value with no trailing zeros: (2, 1250) -> (1, 125); zero is (0, 0)."""
    d, n = key
    if n == 0:
        return 0, 0
    while n % 10 == 0:
        n //= 10
        d -= 1
    return d, n


@functools.lru_cache(maxsize=1 << 16)
def key_forms(key: Key) -> tuple[Key, tuple[Key, ...]]:
    """A value's canonical key and every rounded form of it."""
    key = canonical(key)
    return key, tuple(_roundings(key))


def _roundings(key: Key) -> Iterator[Key]:
    """Every form of a canonical value rounded to fewer digits, down to its first digit (both neighbours of an
    exact half; never zero)."""
    d, n = key
    a, sign = abs(n), (-1 if n < 0 else 1)
    for step in range(1, MAX_DIGITS + 1):
        p = _POW10[step]
        if 2 * a < p:
            return
        q, r = divmod(a, p)
        half = p // 2
        if r < half:
            if q:
                yield d - step, sign * q
        elif r > half:
            yield d - step, sign * (q + 1)
        else:
            if q:
                yield d - step, sign * q
            yield d - step, sign * (q + 1)


def number_key(value: float | int | str) -> Key | None:
    """The exact key of a number given as a value (a profile's row count) or as written."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return canonical((0, value)) if abs(value) < _POW10[MAX_DIGITS] else None
    if isinstance(value, float):
        return None if not math.isfinite(value) else _maybe_canonical(shown_key(repr(value)))
    return _maybe_canonical(shown_key(value))


def _maybe_canonical(key: Key | None) -> Key | None:
    return None if key is None else canonical(key)
