"""The offline demo's scripted analyst: plans emulator script steps from a question and the uploaded files."""

from .plans import plan

__all__ = ["plan"]
