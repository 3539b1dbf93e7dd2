"""Every number in an answer traced to the code output that showed it.

A number in a turn's prose (its Text items) is **traced** when an item earlier in the same run shows it: the
stdout of a Python or bash cell (printed tables included), the content of a text-editor `view`, or a CSV or
JSON file the code generated (its numbers read in the sandbox and handed over as `FileNumbers`). A number an
output joins to another with a dash, slash or colon is part of a date or time (2024-03-01, 14:30) and not one
it shows. It is traced

- **exactly** when that output shows the same value, however either side writes it: with or without thousands
  separators (1,234 = 1234), a currency sign ($4,500 = 4500), a Unicode minus (−3 = -3), trailing zeros
  (12.50 = 12.5), an exponent (1.2e3 = 1200) or a k, M, bn, thousand, million or billion suffix (1.2M =
  1,200,000); a percent is also its fraction (12.5% = 0.125);
- **as a rounding** when the output shows more digits and rounds to the number as written (12.35 from
  12.3456, 12 from 12.4, 1.2M from 1,234,567, 13% from 0.1254; a value exactly halfway rounds either way).
  A plain one-digit number (3, 0.5) is not taken as a rounding unless it is a percent, has a suffix or follows
  "about", "around", "roughly", "approximately", "nearly", "almost", "circa", "some", "close to", "~" or "≈";
  after those words its trailing zeros are not digits shown either, so "about 1,200" is a rounding of 1,234.
- After "fell", "dropped", "decreased", "declined", "lost", "down" and the like (with or without "by"/"of"),
  a number also stands for its negative, so "fell by 3" is traced to -3.

The source recorded is the latest output before the text that shows the number exactly, or failing that the
latest that shows it as a rounding.

Not counted, and listed as skipped with the reason: years (four plain digits from 1900 to 2100), the parts of
dates and times (2024-03-01, 01/03/2024, March 5, 14:30, 9 am), list ordinals ("1." or "2)" at a line's start,
"step 2", "table 3", "#4", "[5]"), numbers equal to one written in the run's questions so far, and numbers
no output shows that equal one of `known` (what the files note told Claude: sizes, stored profiles, notes). Numbers in code spans, fenced code blocks, link
targets and URLs are not numbers of the prose and are not listed. Every other number is untraced.

Work is bounded: each output contributes at most index.MAX_PER_OUTPUT numbers and the run at most
index.MAX_PER_RUN (`RunTrace.complete` says whether everything was looked at); each text item at most
trace.MAX_PER_TEXT numbers. The outputs are indexed once per run, by exact value and by every rounded form.

The modules: trace.py (`trace_run`: start here) traces the prose against index.py (the run's outputs, indexed
once); written.py reads numbers as written into exact keys; records.py holds what a trace is made of
(`TurnTrace`, `RunTrace`, their serialisable form) and `FileNumbers`, the input read from generated files.
"""
