"""How the lines of a text file are encoded, judged line by line: UTF-8, one 8-bit encoding, or a mix of both (a
file appended to from two systems), with the lines that are in the other encoding, carry bytes no Windows-1252
character has, or look encoded twice (`MÃ¼nchen` for `München`). A mixed file is read line by line, each line in
its own encoding, so every row reads as it was written."""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ENCODING_NAMES = {
    "utf-8-sig": "UTF-8 with BOM",
    "utf-8": "UTF-8",
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1",
    "mixed": "UTF-8 and Windows-1252, line by line",
}
SAMPLE_BYTES = 1 << 20  # the start of a file that its encoding is judged on
CHUNK_BYTES = 8 << 20
LISTED = 20  # line numbers kept of each finding (the rest are counted)
# Bytes that have no character in Windows-1252 (Latin-1 reads them as invisible control characters).
_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
# A UTF-8 character whose bytes were read as Windows-1252 and written as UTF-8 again: 'Ã¼' for 'ü', 'â€™' for '’'.
_TWICE = re.compile(
    rb"\xc3[\x82-\x9f\xa0-\xaf](?:\xc2[\x80-\xbf]|\xe2\x80[\x93-\xba]|\xe2\x82\xac|\xe2\x84\xa2"
    rb"|\xc5[\x92\x93\xa0\xa1\xb8\xbd\xbe]|\xc6\x92|\xcb[\x86\x9c])"
)


@dataclass(frozen=True)
class Lines:
    """The lines (1-based, in the file) where something was found: the first few, and how many in all."""

    first: tuple[int, ...] = ()
    count: int = 0

    def add(self, line: int) -> Lines:
        return Lines(self.first + (line,) if len(self.first) < LISTED else self.first, self.count + 1)

    def are(self) -> str:
        """'is' for one line, 'are' for more."""
        return "is" if self.count == 1 else "are"

    def named(self) -> str:
        """'line 7', 'lines 7, 9 and 12', 'lines 7, 9, … and 40 more (52 in all)'."""
        shown = [f"{n:,}" for n in self.first[:8]]
        if self.count == 1:
            return f"line {shown[0]}"
        if self.count <= len(shown):
            return f"lines {', '.join(shown[:-1])} and {shown[-1]}"
        return f"lines {', '.join(shown)} and {self.count - len(shown):,} more ({self.count:,} in all)"


@dataclass(frozen=True)
class Survey:
    """What the lines of a text file are encoded in."""

    encoding: str  # to read it with: utf-8, utf-8-sig, cp1252, latin-1, or "mixed" (line by line)
    utf8: Lines = Lines()  # lines with characters beyond ASCII in UTF-8
    other: Lines = Lines()  # lines that are not UTF-8 (read as Windows-1252)
    undefined: Lines = Lines()  # lines with bytes no Windows-1252 character has (read as Latin-1)
    twice: Lines = Lines()  # lines that look encoded twice
    twice_example: tuple[str, str] = ("", "")  # ('MÃ¼nchen', 'München')
    nul: int = 0  # the first line with a NUL byte (0: none)

    @property
    def mixed(self) -> bool:
        """Whether some lines are UTF-8 and others in an 8-bit encoding."""
        return self.encoding == "mixed"

    def notes(self) -> list[str]:
        """What an analyst (and Claude) should know about the encoding, in plain words."""
        out = []
        if self.mixed:
            out.append(
                f"Mixed encoding: {self.other.named()} of the file {self.other.are()} in Windows-1252 (Latin-1), the others in "
                "UTF-8. Each line was read in its own encoding, so accented names read the same everywhere; "
                "read the file line by line the same way (or save it again as UTF-8)."
            )
        if self.undefined.count:
            out.append(
                f"Doubtful encoding: {self.undefined.named()} {'holds' if self.undefined.count == 1 else 'hold'} bytes that "
                "are no character in Windows-1252, read "
                "as Latin-1 control characters; the file may be in another encoding (Mac Roman, DOS, an Asian "
                "one). Check those rows, or export the file again as UTF-8."
            )
        if self.twice.count:
            seen, meant = self.twice_example
            out.append(
                f"Doubtful encoding: {self.twice.named()} {'looks' if self.twice.count == 1 else 'look'} encoded twice "
                f"(`{seen}` is probably `{meant}`): the "
                "text was read in the wrong encoding before it was saved. Fix it at the source, or repair those "
                "values before comparing or grouping them."
            )
        return out


def detect_encoding(sample: bytes) -> str:
    """utf-8-sig, utf-8, cp1252, latin-1 (which decodes anything) or mixed (UTF-8 lines and Windows-1252 ones),
    judged on the start of a file."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig" if _utf8(sample[len(codecs.BOM_UTF8) :]) else "mixed"
    if _utf8(sample):
        return "utf-8"
    return survey(sample[:SAMPLE_BYTES]).encoding


def _utf8(sample: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        # final=False: a sample may end inside a multi-byte character.
        decoder.decode(sample[:SAMPLE_BYTES], final=len(sample) <= SAMPLE_BYTES)
    except UnicodeDecodeError:
        return False
    return True


def decode(data: bytes, encoding: str, errors: str = "strict") -> str:
    """Bytes as text in an encoding `detect_encoding` named ("mixed": each line in its own)."""
    if encoding == "mixed":
        data = data.removeprefix(codecs.BOM_UTF8)
        return "".join(decode_line(line) for line in data.splitlines(keepends=True))
    return data.decode(encoding, errors=errors)


def survey(source: Path | bytes) -> Survey:
    """How the lines of a file (or of the first bytes of one) are encoded, read in chunks of whole lines."""
    state = _State()
    bom = False
    for number, chunk in enumerate(_chunks(source)):
        if number == 0 and chunk.startswith(codecs.BOM_UTF8):
            bom, chunk = True, chunk[len(codecs.BOM_UTF8) :]
        state.feed(chunk)
    return state.result(bom)


def decode_line(line: bytes) -> str:
    """One line as text: UTF-8 if it is, else Windows-1252, else Latin-1 (which decodes any byte)."""
    for encoding in ("utf-8", "cp1252"):
        try:
            return line.decode(encoding)
        except UnicodeDecodeError:
            continue
    return line.decode("latin-1")


def to_utf8(data: bytes) -> bytes:
    """Bytes of mixed encodings as UTF-8, each line decoded in its own encoding."""
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        return decode(data, "mixed").encode("utf-8")


class Transcoded(io.RawIOBase):
    """A file of mixed encodings read as UTF-8, line by line (a reader for pyarrow's CSV reader)."""

    def __init__(self, source: Path | bytes, on_read: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self._chunks = _chunks(source)
        self._buffer = b""
        self._on_read = on_read
        self.consumed = 0  # bytes of the file read so far

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:  # type: ignore[no-untyped-def]
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            if not self.consumed:
                chunk = chunk.removeprefix(codecs.BOM_UTF8)
            self.consumed += len(chunk)
            if self._on_read is not None:
                self._on_read(self.consumed)
            self._buffer = to_utf8(chunk)
        count = min(len(target), len(self._buffer))
        target[:count] = self._buffer[:count]
        self._buffer = self._buffer[count:]
        return count


def _chunks(source: Path | bytes) -> Iterator[bytes]:
    """The source in chunks that end at a newline (the last one wherever the source ends)."""
    if isinstance(source, bytes):
        yield source
        return
    rest = b""
    with open(source, "rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            block = rest + block
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                rest = block
                continue
            rest = block[cut:]
            yield block[:cut]
    if rest:
        yield rest


class _State:
    """Findings so far, fed whole lines in order."""

    def __init__(self) -> None:
        self.line = 1  # the number of the next line fed
        self.utf8, self.other, self.undefined, self.twice = Lines(), Lines(), Lines(), Lines()
        self.example = ("", "")
        self.last_twice = 0
        self.nul = 0

    def feed(self, chunk: bytes) -> None:
        if not self.nul and b"\x00" in chunk:
            self.nul = self.line + chunk.count(b"\n", 0, chunk.index(b"\x00"))
        if not chunk.isascii():
            try:
                chunk.decode("utf-8")
            except UnicodeDecodeError:
                for number, line in enumerate(chunk.split(b"\n"), start=self.line):
                    if not line.isascii():
                        self._line(line, number)
            else:
                self.utf8 = Lines(self.utf8.first, self.utf8.count + 1)  # all that matters is that there are some
                at, line = 0, self.line
                for found in _TWICE.finditer(chunk):
                    line += chunk.count(b"\n", at, found.start())
                    at = found.start()
                    if line != self.last_twice:
                        self._twice(chunk, line, found.start())
        self.line += chunk.count(b"\n")

    def _line(self, line: bytes, number: int) -> None:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            self.other = self.other.add(number)
            if _UNDEFINED.search(line):
                self.undefined = self.undefined.add(number)
            return
        self.utf8 = self.utf8.add(number)
        found = _TWICE.search(line)
        if found:
            self._twice(line, number, found.start())

    def _twice(self, text: bytes, number: int, at: int) -> None:
        self.twice, self.last_twice = self.twice.add(number), number
        if not self.example[0]:
            start = text.rfind(b"\n", 0, at) + 1
            end = text.find(b"\n", at)
            line = text[start : end if end != -1 else len(text)]
            self.example = _example(line, at - start)

    def result(self, bom: bool) -> Survey:
        if not self.other.count:
            encoding = "utf-8-sig" if bom else "utf-8"
        elif self.utf8.count or bom:
            encoding = "mixed"
        else:
            encoding = "latin-1" if self.undefined.count else "cp1252"
        # in a file of one 8-bit encoding, every non-ASCII line is "other": that is no finding
        other = self.other if encoding == "mixed" else Lines()
        return Survey(encoding, self.utf8, other, self.undefined, self.twice, self.example, self.nul)


def _example(line: bytes, at: int) -> tuple[str, str]:
    """The word around a doubly encoded character, as it reads and as it was meant."""
    text = line.decode("utf-8", "replace")
    start = len(line[:at].decode("utf-8", "replace"))
    left = max(text.rfind(c, 0, start) for c in " ,;\t\"'") + 1
    right = min((i for i in (text.find(c, start) for c in " ,;\t\"'\r\n") if i != -1), default=len(text))
    word = text[left:right][:40]
    try:
        meant = word.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        meant = word
    return word, meant
