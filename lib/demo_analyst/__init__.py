"""The offline demo's scripted analyst: plans emulator script steps from a question and the uploaded files."""

from .plans import default_script, held_default_script, plan, question_kind

__all__ = ["default_script", "held_default_script", "plan", "question_kind"]
