"""Runs one code cell for programmatic tool calling, in its own interpreter (started by lib/emulator/live.py).

The cell's Python comes on stdin and may `await` the client tools named in `_EMU_PTC_TOOLS` at top level
(`rows = await sql(source="…", query="…")`, `asyncio.gather` too). Each batch of calls made in one turn of
the event loop goes to the emulator as one JSON line on the request pipe; the cell stays blocked on the
answer pipe until the emulator writes the results, which it does once the app's continuation arrives.
This file imports nothing of the app: it runs in the container's interpreter.
"""

import ast
import asyncio
import json
import os
import sys
import traceback

FILENAME = "<stdin>"


class ToolCallAbandoned(RuntimeError):
    """The tool's result never came (the conversation went on without it, or waited too long)."""


def _connect():
    out = os.fdopen(int(os.environ.pop("_EMU_PTC_OUT")), "w", encoding="utf-8")
    answers = os.fdopen(int(os.environ.pop("_EMU_PTC_IN")), "r", encoding="utf-8")
    tools = json.loads(os.environ.pop("_EMU_PTC_TOOLS"))
    return out, answers, tools


def _value(result):
    """What the awaited call returns: the result's text, parsed when it is JSON."""
    content = result.get("content", "")
    if isinstance(content, list):
        content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
    try:
        return json.loads(content)
    except (TypeError, ValueError):
        return content


def _tools(out, answers, tools):
    pending = []  # (call, future) made since the last batch went out

    def flush():
        batch = list(pending)
        pending.clear()
        out.write(json.dumps({"calls": [call for call, _ in batch]}) + "\n")
        out.flush()
        line = answers.readline()
        reply = json.loads(line) if line.strip() else {"abort": "no answer"}
        results = reply.get("results")
        for i, (_, future) in enumerate(batch):
            if future.done():
                continue
            if results is None or i >= len(results):
                future.set_exception(ToolCallAbandoned(f"the tool call was abandoned: {reply.get('abort', '')}"))
            else:
                future.set_result(_value(results[i]))

    def make(name, params):
        async def call(*args, **kwargs):
            given = dict(zip(params, args, strict=False))
            given.update(kwargs)
            loop = asyncio.get_running_loop()
            future = loop.create_future()
            if not pending:  # calls started in this turn of the loop (asyncio.gather) go out together
                loop.call_soon(flush)
            pending.append(({"name": name, "input": given}, future))
            return await future

        call.__name__ = call.__qualname__ = name
        return call

    return {name: make(name, params) for name, params in tools.items()}


def _print_error(exc):
    """The traceback as `python -` would print it: the cell's own frames, not this driver's."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != FILENAME:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb)


def main():
    out, answers, tools = _connect()
    code = sys.stdin.read()
    sys.stdin.close()
    namespace = {"__name__": "__main__", "__builtins__": __builtins__, **_tools(out, answers, tools)}
    try:
        compiled = compile(code, FILENAME, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        ran = eval(compiled, namespace)  # a coroutine when the cell awaits at top level
        if asyncio.iscoroutine(ran):
            asyncio.run(ran)
    except SystemExit:
        sys.stdout.flush()
        raise
    except BaseException as exc:  # noqa: BLE001 - the cell's error is printed, as python would
        sys.stdout.flush()
        _print_error(exc)
        sys.exit(1)
    finally:
        out.close()


if __name__ == "__main__":
    main()
