"""Interactive charts: a Vega-Lite spec saved beside a PNG, checked and cleaned before any browser draws it.

A spec is written by a model's code, so it is read, checked against the Vega-Lite schema and cleaned only in the
sandbox (`checked_spec`), within the time, size, depth and row limits of lib.limits, once per version of the
file. What could fetch or run is dealt with there: a spec that loads data from a URL (or an image mark's URL) is
not drawn, and `usermeta` (vega-embed reads its options, a loader among them, from it) and `href` (links the
chart would open, `javascript:` ones included) are removed, so neither the page nor an exported notebook gets
them. Vega's expressions cannot load anything themselves; the URLs they could build only reach those keys.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

import jsonschema

from lib.files import decoded, sandbox
from lib.files.preview import json_depth
from lib.limits import LIMITS
from lib.storage import blobs
from lib.transcript import GeneratedFile, Item

SPEC_SUFFIX = ".vl.json"
SPEC_MIME = "application/vnd.vegalite.v5+json"
# Keys removed wherever they are (outside inline data rows): what vega-embed or the browser would act on.
STRIPPED_KEYS = ("usermeta", "href")
# The browser draws with Vega-Lite 6, which reads v5 specs as they are; older or other grammars are refused.
SCHEMA_VERSIONS = ("vega-lite/v5", "vega-lite/v6")
DATA_GENERATORS = ("values", "name", "sequence", "sphere", "graticule")
T = TypeVar("T")


class Stored(Protocol):
    """A file kept under the data directory (a generated file, a gallery artifact)."""

    @property
    def path(self) -> str:
        """Its path relative to the data directory."""
        ...


class SpecProblem(ValueError):
    """Why a spec cannot be drawn as an interactive chart."""


@dataclass(frozen=True)
class Chart:
    """What to show for one chart: the spec when it can be drawn, else the PNG and a note why not."""

    name: str  # the spec's file name, or the PNG's when there is no spec
    spec: dict[str, Any] | None = field(default=None, repr=False)
    spec_path: Path | None = None
    png_path: Path | None = None
    note: str = ""

    @property
    def interactive(self) -> bool:
        """Whether the chart is drawn from its spec."""
        return self.spec is not None

    @property
    def png_name(self) -> str:
        """The PNG's download name."""
        return png_name_for(self.name) if is_spec(self.name) else self.name


def is_spec(filename: str) -> bool:
    """Whether a file name is a Vega-Lite spec (`<name>.vl.json`)."""
    return filename.lower().endswith(SPEC_SUFFIX)


def stem(filename: str) -> str:
    """The chart name shared by a spec and its PNG (`sales.vl.json`, `sales.png` -> `sales`)."""
    low = filename.lower()
    if low.endswith(SPEC_SUFFIX):
        return filename[: -len(SPEC_SUFFIX)]
    if low.endswith(".png"):
        return filename[:-4]
    return ""


def png_name_for(spec_name: str) -> str:
    """The PNG sibling's file name of a spec."""
    return stem(spec_name) + ".png"


def pair_files(items: Sequence[T], name: Callable[[T], str]) -> dict[int, int | None]:
    """For each spec among `items`: the index of its PNG sibling (same stem, the latest one), or None."""
    pngs: dict[str, int] = {}
    for i, item in enumerate(items):
        n = name(item)
        if n.lower().endswith(".png"):
            pngs[stem(n)] = i
    return {i: pngs.get(stem(name(item))) for i, item in enumerate(items) if is_spec(name(item))}


def paired_pngs(items: Sequence[T], name: Callable[[T], str]) -> set[int]:
    """Indexes of PNGs drawn together with their spec (so not on their own)."""
    return {j for j in pair_files(items, name).values() if j is not None}


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    """The Vega-Lite schema checker (altair is imported here: only a spec being checked needs it)."""
    from altair.vegalite.v6 import schema as vl_schema

    schema = vl_schema.load_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def _cleaned(node: Any) -> Any:
    """The spec without STRIPPED_KEYS anywhere outside its inline data rows."""
    if isinstance(node, dict):
        return {
            k: (v if k in ("values", "datasets") else _cleaned(v)) for k, v in node.items() if k not in STRIPPED_KEYS
        }
    if isinstance(node, list):
        return [_cleaned(v) for v in node]
    return node


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object of a spec with where it is, skipping inline data rows."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key in ("values", "datasets"):
                continue
            yield from _walk(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def _without_rows(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with its inline rows emptied, so the schema check does not walk every data value."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "values" and isinstance(value, list):
                    out[key] = []
                elif key == "datasets" and isinstance(value, dict):
                    out[key] = {k: [] if isinstance(v, list) else v for k, v in value.items()}
                else:
                    out[key] = strip(value)
            return out
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return strip(spec)


def _rows(spec: dict[str, Any]) -> int:
    count = 0
    for _, obj in _walk(spec):
        values = obj.get("values") if "values" in obj else None
        if isinstance(values, list):
            count += len(values)
    datasets = spec.get("datasets")
    if isinstance(datasets, dict):
        count += sum(len(v) for v in datasets.values() if isinstance(v, list))
    return count


def validate(spec: Any) -> dict[str, Any]:
    """Check a parsed spec can be drawn safely; returns it cleaned (`STRIPPED_KEYS` removed), or raises
    SpecProblem saying what is wrong. Runs in the sandbox (`checked_spec`): the schema check takes time."""
    if not isinstance(spec, dict):
        raise SpecProblem("it is not a JSON object")
    declared = spec.get("$schema")
    if declared is not None and not (isinstance(declared, str) and any(v in declared for v in SCHEMA_VERSIONS)):
        raise SpecProblem(f"it declares `{declared}`, not Vega-Lite v5")
    if not any(k in spec for k in ("mark", "layer", "concat", "hconcat", "vconcat", "facet", "repeat", "spec")):
        raise SpecProblem("it has no mark, layer or concat")
    datasets = spec.get("datasets") if isinstance(spec.get("datasets"), dict) else {}
    objects = list(_walk(spec))
    for where, obj in objects:
        if "url" in obj:
            raise SpecProblem(
                f"it would fetch from a URL (`{where + '.' if where else ''}url`); only inline data is drawn"
            )
    seen_data = False
    for where, obj in objects:
        data = obj.get("data")
        if isinstance(data, dict):
            seen_data = True
            if not any(k in data for k in DATA_GENERATORS):
                raise SpecProblem(f"its data at `{where or 'top'}.data` is not inline (`data.values`)")
            if (
                "name" in data
                and "values" not in data
                and (not isinstance(data["name"], str) or data["name"] not in datasets)
            ):
                raise SpecProblem(f"it names a dataset `{_short(str(data['name']))}` it does not contain")
    if not seen_data and not datasets:
        raise SpecProblem("it has no inline data (`data.values`)")
    rows = _rows(spec)
    if rows > LIMITS.spec_rows:
        raise SpecProblem(f"it holds {rows:,} data rows, more than the {LIMITS.spec_rows:,} drawn interactively")
    spec = _cleaned(spec)
    structure = _without_rows(spec)
    size = len(json.dumps(structure))
    if size > LIMITS.spec_structure_bytes:
        raise SpecProblem(
            f"its chart definition (without its data rows) is {size / 1000:,.0f} KB, "
            f"more than the {LIMITS.spec_structure_bytes / 1000:,.0f} KB checked"
        )
    error = jsonschema.exceptions.best_match(_validator().iter_errors(structure))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "top level"
        raise SpecProblem(f"it is not valid Vega-Lite (at {where}: {_short(error.message)})")
    return spec


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def load_spec(path: Path) -> dict[str, Any]:
    """A `.vl.json` file read, checked and cleaned in the sandbox (once per version of the file), as a fresh copy
    for each caller (a renderer may change the dict it is given); raises SpecProblem saying what is wrong."""
    try:
        st = path.stat()
    except OSError as err:
        raise SpecProblem("the file is missing") from err
    if st.st_size > LIMITS.spec_bytes:
        raise SpecProblem(
            f"it is {st.st_size / 1e6:.1f} MB, more than the {LIMITS.spec_bytes // 2**20} MB drawn interactively"
        )
    found = decoded.of_file(checked_spec, path, seconds=LIMITS.spec_seconds)
    if found.value is None:
        raise SpecProblem(found.problem)
    return copy.deepcopy(found.value)


@sandbox.task
def checked_spec(path: Path) -> dict[str, Any]:
    """Read, check and clean a `.vl.json` file within the size and depth limits (a sandbox task); raises SpecProblem."""
    data = path.read_bytes()
    if len(data) > LIMITS.spec_bytes:
        raise SpecProblem(f"it is more than the {LIMITS.spec_bytes // 2**20} MB drawn interactively")
    depth = json_depth(data)
    if depth > LIMITS.spec_depth:
        raise SpecProblem(f"it is nested {depth:,} levels deep, more than the {LIMITS.spec_depth} drawn")
    try:
        spec = json.loads(data)
    except ValueError as err:
        raise SpecProblem(f"it is not readable JSON ({type(err).__name__})") from None
    return validate(spec)


def chart(spec_path: Path | None, png_path: Path | None, name: str) -> Chart:
    """Decide how to show a chart from its spec file and its PNG sibling (either may be missing)."""
    png = png_path if png_path is not None and png_path.is_file() else None
    if spec_path is None:
        return Chart(name=name, png_path=png)
    if png is None and not spec_path.is_file():
        return Chart(name=name, note=f"`{png_name_for(name)}` is no longer on disk (deleted from the gallery?).")
    try:
        spec = load_spec(spec_path)
    except (SpecProblem, OSError, ValueError) as problem:
        fallback = "the PNG is shown instead" if png else "no PNG was saved beside it"
        kept = spec_path if spec_path.is_file() else None
        return Chart(
            name=name, spec_path=kept, png_path=png, note=f"Interactive chart not shown: {problem}; {fallback}."
        )
    return Chart(name=name, spec=spec, spec_path=spec_path, png_path=png)


def narrowed(spec: dict[str, Any], max_width: int) -> dict[str, Any]:
    """A spec whose fixed widths (of the view, or of each facet cell) are at most `max_width` pixels, so two
    charts fit side by side; Vega-Lite cannot stretch a faceted view to its container."""
    out = dict(spec)
    for holder, key in ((out, "width"), (out.get("spec"), "width")):
        if isinstance(holder, dict) and isinstance(holder.get(key), (int, float)) and holder[key] > max_width:
            if holder is not out:
                holder = out["spec"] = dict(holder)
            holder[key] = max_width
    return out


def figure_chart(data_dir: Path, spec: Stored | None, png: Stored | None, name: str) -> Chart:
    """How to show a spec and/or its PNG kept under the data directory (fetched from the object store if need be)."""
    png_path = blobs.path(data_dir, png.path) if png is not None else None
    return chart(blobs.path(data_dir, spec.path) if spec is not None else None, png_path, name)


def shown_name(item: Item) -> str:
    """The file name of a generated file that can be shown, or '' for any other item (and a failed download)."""
    return item.filename if isinstance(item, GeneratedFile) and item.path and not item.error else ""


@dataclass(frozen=True)
class TranscriptCharts:
    """How a turn's generated files show as charts: a Chart at each spec's place, paired PNGs left out."""

    at: dict[int, Chart]
    skip: set[int]


def transcript_charts(items: Sequence[Item], data_dir: Path) -> TranscriptCharts:
    """Pair each spec of a turn with its PNG (drawn once, at the spec's place) and decide how to show it."""
    found: dict[int, Chart] = {}
    for i, j in pair_files(items, shown_name).items():
        spec_item = items[i]
        assert isinstance(spec_item, GeneratedFile)
        png = items[j] if j is not None else None
        found[i] = figure_chart(
            data_dir, spec_item, png if isinstance(png, GeneratedFile) else None, spec_item.filename
        )
    return TranscriptCharts(found, paired_pngs(items, shown_name))
