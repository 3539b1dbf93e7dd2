"""How fast the emulator talks: delays between text chunks, a floor on code step time, and, like a model, a
wait before the first token and a length for the whole answer."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

Event = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Pacing:
    """Delays applied while playing a script; zero by default so tests run fast."""

    text_chunk_delay: float = 0.0
    code_delay: float = 0.0
    # Hold every event of a streamed response back and send them all at once at its end: a non-streaming
    # baseline with the same pacing (benchmarks compare time to first visible text against streaming).
    buffered: bool = False
    # Like a model under load: each streamed response waits a time drawn from `first_token` (seconds, low and
    # high) before its first content, and lasts a time drawn from `answer_seconds`, its events spread evenly over
    # it. The response is made (its code run) before the first event goes out. (0, 0): off.
    first_token: tuple[float, float] = (0.0, 0.0)
    answer_seconds: tuple[float, float] = (0.0, 0.0)
    seed: int | None = None
    _random: random.Random = field(default_factory=random.Random, init=False, repr=False, compare=False)
    # the length drawn for each paced response, in the order they started (a benchmark packs them ideally)
    answers: list[float] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.seed is not None:
            self._random.seed(self.seed)

    @classmethod
    def realistic(cls) -> Pacing:
        """Roughly what a person watching the real API sees."""
        return cls(text_chunk_delay=0.03, code_delay=2.0)

    @classmethod
    def model_like(cls, seed: int | None = None) -> Pacing:
        """Answers timed like a model's: the first token after 0.5 to 1.5 s, a whole answer in 5 to 20 s."""
        return cls(first_token=(0.5, 1.5), answer_seconds=(5.0, 20.0), seed=seed)

    def spread(self, events: Iterator[Event]) -> Iterator[Event]:
        """The events of one streamed response, timed by `first_token` and `answer_seconds` (as they come when
        both are off)."""
        if not (self.first_token[1] or self.answer_seconds[1]):
            yield from events
            return
        started = time.monotonic()
        first = self._random.uniform(*self.first_token)
        total = max(first, self._random.uniform(*self.answer_seconds))
        self.answers.append(total)
        held = list(events)
        content = next((i for i, (name, _) in enumerate(held) if name == "content_block_start"), len(held))
        yield from held[:content]  # message_start and ping: the response has begun
        rest = held[content:]
        for i, event in enumerate(rest):
            due = started + first + (total - first) * i / max(1, len(rest) - 1)
            time.sleep(max(0.0, due - time.monotonic()))
            yield event
