"""A local Anthropic API emulator (Files, Models, Messages with code execution) for tests and demos."""

from .app import Recorded
from .containers import ContainerInfo
from .emulator import Emulator
from .faults import Fault
from .files import StoredFile
from .pacing import Pacing
from .script import Bash, Edit, Pause, Python, RawBlock, Step, Text, ToolFailure

__all__ = [
    "Bash",
    "ContainerInfo",
    "Edit",
    "Emulator",
    "Fault",
    "Pacing",
    "Pause",
    "Python",
    "RawBlock",
    "Recorded",
    "Step",
    "StoredFile",
    "Text",
    "ToolFailure",
]
