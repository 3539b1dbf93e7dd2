"""Every bound on decoding untrusted content (uploads, files and text a model or a container made), in one table.

Bytes and text from a model, a container or an upload are decoded only in the sandbox pool (lib.files.sandbox);
these are the bounds it works under and the size of what it hands back to the server. `LIMITS` is the table
every module reads; tests build a smaller one with `dataclasses.replace`.
"""

from __future__ import annotations

from dataclasses import dataclass

KB = 1_000
MB = 1_000_000
MIB = 1 << 20
GIB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """The bounds, each with its unit in its name or comment."""

    # --- the sandbox pool: one task in one worker process ---------------------------------------------
    sandbox_seconds: float = 10.0  # wall clock of one task (a task may be given more, see parse_*)
    sandbox_memory_bytes: int = 2 * GIB  # memory a worker may write to (RLIMIT_DATA)
    sandbox_cpu_seconds: int = 20  # processor time of one task, all threads (at least twice its wall clock)
    sandbox_start_seconds: float = 60.0  # a new worker importing its libraries on a busy machine
    sandbox_workers: int = 4  # workers at once; beyond this a task waits for a free one
    sandbox_retire_rss_bytes: int = 700 * MIB  # a worker grown past this after a task is replaced
    sandbox_retire_tasks: int = 200  # a worker is replaced after this many tasks
    parse_seconds: float = 10.0  # checking an upload: this wall clock ...
    parse_bytes_per_extra_second: int = 20 * MB  # ... plus one second per this many bytes of the file
    decoded_cache_bytes: int = 128 * MIB  # the server's cache of sandbox results (heads, images, specs, diffs)

    # --- uploads and tables ------------------------------------------------------------------------------
    archive_bytes: int = 500 * MB  # a zip-based file (XLSX) may expand to this much ...
    archive_ratio: int = 200  # ... and to this many times its size,
    archive_ratio_floor: int = 50 * MB  # once it expands past this
    archive_entries: int = 10_000  # entries in a zip's central directory
    parquet_bytes: int = 2_000 * MB  # uncompressed size of a Parquet file's row groups
    json_bytes: int = 200 * MB  # a JSON upload
    json_depth: int = 200  # nesting of a JSON upload shown as a table (deeper: shown as text)
    csv_row_bytes: int = 64 * MIB  # one row of a delimited file
    csv_restarts: int = 12  # late type changes that restart the read of a delimited file
    scan_columns: int = 1_000  # columns profiled in one DuckDB pass (wider tables are streamed)
    scan_memory: str = "192MB"  # DuckDB's memory for that pass
    scan_line_bytes: int = 2 * MIB  # DuckDB's longest line in that pass
    text_head_lines: int = 40  # lines of a text file previewed
    text_head_chars: int = 8_000  # characters of a text file previewed

    # --- heads of tables shown in a transcript --------------------------------------------------------
    table_head_bytes: int = 1 * MIB  # bytes of a delimited file read for its head
    table_head_rows: int = 200  # rows shown
    table_head_columns: int = 50  # columns shown (the rest are counted)
    table_cell_chars: int = 200  # characters of one cell shown

    # --- images (uploaded or generated) ---------------------------------------------------------------
    image_pixels: int = 89_478_485  # pixels decoded at all (Pillow's own decompression-bomb limit)
    display_px: int = 1_400  # longest side of an image drawn in a page
    preview_width_px: int = 480  # width of an upload's image preview (its height: display_px at most)
    thumb_px: int = 360  # longest side of a gallery thumbnail

    # --- Vega-Lite chart specs ---------------------------------------------------------------------------
    spec_bytes: int = 5 * MIB  # a spec file drawn interactively
    spec_depth: int = 64  # nesting of a spec's JSON (arrays and objects)
    spec_structure_bytes: int = 100 * KB  # a spec without its inline data rows (what the schema check reads)
    spec_rows: int = 50_000  # inline data rows drawn interactively
    spec_seconds: float = 5.0  # wall clock of reading and checking one spec

    # --- numbers quoted in answers ----------------------------------------------------------------------
    number_digits: int = 30  # digits of one number (longer digit runs are not read as numbers)
    number_exponent: int = 300  # |exponent| of one number written as 1.5e12 (beyond: not read as a number)

    # --- comparing two runs -------------------------------------------------------------------------------
    compare_seconds: float = 10.0  # wall clock of comparing two runs' answers, cells and charts


LIMITS = Limits()
