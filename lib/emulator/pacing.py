"""How fast the emulator talks: delays between text chunks and a floor on code step time."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pacing:
    """Delays applied while playing a script; zero by default so tests run fast."""

    text_chunk_delay: float = 0.0
    code_delay: float = 0.0
    # Hold every event of a streamed response back and send them all at once at its end: a non-streaming
    # baseline with the same pacing (benchmarks compare time to first visible text against streaming).
    buffered: bool = False

    @classmethod
    def realistic(cls) -> Pacing:
        """Roughly what a person watching the real API sees."""
        return cls(text_chunk_delay=0.03, code_delay=2.0)
