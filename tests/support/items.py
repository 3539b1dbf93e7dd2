"""One transcript item of every type, for tests that each consumer handles them all."""

from __future__ import annotations

from lib.transcript import (
    CodeCell,
    EditorResult,
    GeneratedFile,
    Item,
    Notice,
    Output,
    Query,
    RunError,
    Text,
    Thinking,
    ToolError,
    Unsupported,
)


def one_of_each() -> list[Item]:
    """An item of each type, with something to show in each."""
    return [
        Text(text="The mean is 4.2."),
        Thinking(text="First  the columns,\nthen the mean."),
        CodeCell(tool_use_id="s1", tool="code_execution", language="python", code="print(4.2)", complete=True),
        Output(tool_use_id="s1", stdout="4.2\n"),
        EditorResult(tool_use_id="s2", operation="str_replace", lines=["-a", "+b"]),
        ToolError(
            tool_use_id="s3", tool="bash_code_execution", error_code="unavailable", message="Down.", hint="Retry."
        ),
        GeneratedFile(file_id="file_1", filename="lost.csv", tool_use_id="s1", error="The file is gone."),
        Notice(text="A new container was started.", level="warning"),
        RunError(title="Overloaded", message="The API is overloaded.", hint="Try again."),
        Unsupported(block_type="mystery_block_2027", raw='{"type": "mystery_block_2027"}'),
        Query(
            tool_use_id="toolu_1",
            code_tool_use_id="s1",
            source="demo",
            sql="SELECT region, sum(revenue) FROM monthly_sales GROUP BY region",
            row_count=4,
            columns=["region", "revenue"],
            seconds=0.02,
        ),
    ]
