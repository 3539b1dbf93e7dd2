"""Column statistics in one streaming pass with bounded memory: exact rows, types, missing share, min/max/mean and
standard deviation of numbers, quartiles from a uniform sample, distinct counts (exact up to a point, then a
K-minimum-values estimate). Fed Arrow record batches by any reader (`Profiler`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lib.storage.records import ColumnProfile

# K-minimum-values sketch: keeps the K smallest 64-bit hashes; relative error about 1/sqrt(K).
SKETCH_K = 2048
_HASH_WINDOW = 4096  # bytes of a string that weigh in its hash (with its length)
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_rng = np.random.default_rng(20260521)
_WEIGHTS = _rng.integers(1, 2**63, _HASH_WINDOW, dtype=np.uint64) | np.uint64(1)
SAMPLE_K = 4096  # numbers kept of each numeric column, uniformly at random, for its quartiles
SAMPLE_SEED = 20261206


def type_name(t: pa.DataType) -> str:
    """A short, familiar name for an Arrow type."""
    if pa.types.is_integer(t):
        return "int64"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float64"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_timestamp(t):
        return "datetime"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_time(t):
        return "time"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    if pa.types.is_null(t):
        return "empty"
    return str(t)


def _is_numeric(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def _is_ordered(t: pa.DataType) -> bool:
    return pa.types.is_temporal(t)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads the bits of a 64-bit value evenly."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint64(30))
        h = h * np.uint64(0xBF58476D1CE4E5B9)
        h = h ^ (h >> np.uint64(27))
        h = h * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def _string_hashes(arr: pa.Array) -> np.ndarray:
    """64-bit hashes of non-null strings, vectorised over Arrow's offsets and data buffers."""
    arr = arr.cast(pa.large_string()) if not pa.types.is_large_string(arr.type) else arr
    n = len(arr)
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64, count=n + 1, offset=arr.offset * 8)
    start, end = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(buffers[2], dtype=np.uint8, count=end, offset=0)[start:] if end else np.empty(0, np.uint8)
    lengths = np.diff(offsets)
    local = offsets[:-1] - start
    with np.errstate(over="ignore"):
        if data.size:
            pos = np.arange(data.size, dtype=np.int64) - np.repeat(local, lengths)
            contrib = (data.astype(np.uint64) + np.uint64(1)) * _WEIGHTS[pos % _HASH_WINDOW]
            # reduceat needs in-range indices; a trailing 0 handles empty strings at the end
            sums = np.add.reduceat(np.append(contrib, np.uint64(0)), np.minimum(local, data.size))
            sums[lengths == 0] = 0
        else:
            sums = np.zeros(n, dtype=np.uint64)
        return _mix(sums ^ (lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)))


def _hashes(arr: pa.Array) -> np.ndarray:
    """64-bit hashes of the distinct non-null values of a column chunk."""
    uniq = pc.unique(pc.drop_null(arr))
    t = uniq.type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t):
        return _string_hashes(uniq.cast(pa.large_string()) if pa.types.is_binary(t) else uniq)
    if pa.types.is_dictionary(t):
        return _hashes(uniq.dictionary_decode())
    try:
        values = np.asarray(uniq.to_numpy(zero_copy_only=False))
        if values.dtype.kind in "iub":
            ints = values.astype(np.int64).view(np.uint64)
        elif values.dtype.kind == "f":
            ints = values.astype(np.float64).view(np.uint64)
        elif values.dtype.kind in "mM":
            ints = values.view(np.int64).view(np.uint64)
        else:
            return _string_hashes(pc.cast(uniq, pa.large_string()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError, ValueError):
        return _string_hashes(pa.array([str(v) for v in uniq.to_pylist()], type=pa.large_string()))
    return _mix(ints.copy())


class _Column:
    """Running totals of one column."""

    def __init__(self, name: str, t: pa.DataType) -> None:
        self.name, self.type = name, t
        self.nulls = 0
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0  # sum of squared differences from the mean (Chan's parallel form)
        self.min: Any = None
        self.max: Any = None
        self.sketch = np.empty(0, dtype=np.uint64)
        self.saturated = False
        self.keys = np.empty(0)  # the sample: the values with the SAMPLE_K smallest random keys
        self.sample = np.empty(0)
        self.rng = np.random.default_rng(SAMPLE_SEED)

    def feed(self, arr: pa.Array) -> None:
        self.nulls += arr.null_count
        numeric = _is_numeric(self.type)
        if numeric or _is_ordered(self.type):
            valid = len(arr) - arr.null_count
            if valid:
                mm = pc.min_max(arr)
                lo, hi = mm["min"].as_py(), mm["max"].as_py()
                self.min = lo if self.min is None else min(self.min, lo)
                self.max = hi if self.max is None else max(self.max, hi)
                if numeric:
                    self._moments(arr, valid)
            if numeric and not pa.types.is_integer(self.type):
                return
        self._distinct(arr)

    def _moments(self, arr: pa.Array, valid: int) -> None:
        """Count, mean and squared deviations merged with the batch's; the batch's share of the sample."""
        values = np.asarray(pc.drop_null(arr).cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            mean = float(values.mean())
            m2 = float(((values - mean) ** 2).sum())
        delta, total = mean - self.mean, self.count + valid
        self.m2 += m2 + delta * delta * self.count * valid / total
        self.mean += delta * valid / total
        self.count = total
        keys = self.rng.random(values.size)
        if self.keys.size >= SAMPLE_K:
            chosen = keys < self.keys.max()
            keys, values = keys[chosen], values[chosen]
        keys, values = np.concatenate([self.keys, keys]), np.concatenate([self.sample, values])
        if keys.size > SAMPLE_K:
            kept = np.argpartition(keys, SAMPLE_K)[:SAMPLE_K]
            keys, values = keys[kept], values[kept]
        self.keys, self.sample = keys, values

    def _distinct(self, arr: pa.Array) -> None:
        hashes = _hashes(arr)
        if self.saturated:
            # only hashes below the current K-th smallest can change the sketch
            hashes = hashes[hashes < self.sketch[-1]]
            if not hashes.size:
                return
        merged = np.union1d(self.sketch, hashes)
        if merged.size > SKETCH_K:
            merged = merged[:SKETCH_K]
            self.saturated = True
        self.sketch = merged

    def result(self, rows: int) -> ColumnProfile:
        missing = self.nulls / rows if rows else 0.0
        if self.saturated:
            # KMV estimate: K-1 divided by the K-th smallest hash as a fraction of the hash space
            kth = float(self.sketch[SKETCH_K - 1]) / 2.0**64
            distinct, exact = int(round((SKETCH_K - 1) / kth)), False
        else:
            distinct, exact = int(self.sketch.size), True
        name = type_name(self.type)
        if not _is_numeric(self.type):
            return ColumnProfile(self.name, name, missing, self.min, self.max, None, distinct, exact)
        mean = self.mean if self.count else None
        std = math.sqrt(self.m2 / self.count) if self.count and math.isfinite(self.m2) else None
        q1, q3 = quartiles(self.sample)
        if not pa.types.is_integer(self.type):
            return ColumnProfile(self.name, name, missing, self.min, self.max, mean, std=std, q1=q1, q3=q3)
        return ColumnProfile(self.name, name, missing, self.min, self.max, mean, distinct, exact, std, q1, q3)


def quartiles(sample: np.ndarray) -> tuple[float | None, float | None]:
    """The first and third quartile of a sample of numbers (None, None without any)."""
    sample = sample[np.isfinite(sample)]
    if not sample.size:
        return None, None
    q1, q3 = np.quantile(sample, [0.25, 0.75])
    return float(q1), float(q3)


class Profiler:
    """Feeds record batches of one table and builds its column profiles; memory stays bounded."""

    def __init__(self) -> None:
        self.rows = 0
        self.columns: list[_Column] = []

    def reset(self) -> None:
        """Start over (the reader restarted the stream with other column types)."""
        self.rows = 0
        self.columns = []

    def feed(self, batch: pa.RecordBatch) -> None:
        if not self.columns:
            self.columns = [_Column(f.name, f.type) for f in batch.schema]
        self.rows += batch.num_rows
        for col, arr in zip(self.columns, batch.columns, strict=True):
            if arr.type != col.type:  # pandas-made batches may differ chunk to chunk
                col.type = arr.type if pa.types.is_null(col.type) else col.type
                if arr.type != col.type:
                    arr = arr.cast(col.type, safe=False)
            col.feed(arr)

    def result(self) -> list[ColumnProfile]:
        return [c.result(self.rows) for c in self.columns]
