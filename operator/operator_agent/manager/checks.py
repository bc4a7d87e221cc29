"""The cheap checks of a worker's result, before (and instead of) asking the model: did it
finish, is there an answer, does the answer state each fact the spec asks for in a form
that kind of fact takes (an amount, a number, a date). What they cannot judge (is the
product the cheapest? the right colour?) is the model's check.

And which failures are worth sending back: not a refusal by the permission layer or the
person (trying again would ask again, or look for a way around a no), not a run the model
server, the budget or the person ended.
"""

from __future__ import annotations

import re

from ..types import RunResult
from .records import FactKind, SubTask

_MONEY = re.compile(
    r"(?:[$€£¥]\s?\d[\d,.]*|\b\d[\d,]*(?:\.\d+)?\s?(?:USD|EUR|GBP|CAD|AUD|JPY|CHF|dollars?|euros?|pounds?)\b"
    r"|\b(?:USD|EUR|GBP|CAD|AUD|JPY|CHF)\s?\d)", re.IGNORECASE)
_NUMBER = re.compile(r"\d")
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_DATE = re.compile(rf"\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}\b"
                   rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})|\b(?:{_MONTHS})[a-z]*\.?\s+\d{{1,2}}\b",
                   re.IGNORECASE)
_SHAPES: dict[FactKind, re.Pattern[str] | None] = {"money": _MONEY, "number": _NUMBER, "date": _DATE,
                                                   "text": None}
_WORDS: dict[FactKind, str] = {"money": "an amount with its currency", "number": "a number",
                               "date": "a date", "text": "it"}

# Ended by something a retry cannot change (the model server, the budget, the person, our bug).
FINAL_STOPS = frozenset({"model_unavailable", "budget", "stopped", "error"})


def structural_failure(subtask: SubTask, result: RunResult) -> str | None:
    """Why the result fails without asking the model; None: the model's check decides."""
    if not result.success:
        answer = (result.answer or "").strip()
        said = f" (its answer: {answer[:200]})" if answer else ""
        return f"the worker did not finish: {result.message or result.stop_reason}{said}"
    answer = (result.answer or "").strip()
    if not answer:
        return "the worker finished without an answer; it must state what it found or did"
    missing = [f for f in subtask.spec.must_state if not states(answer, f.kind)]
    if missing:
        return "the answer does not state " + "; ".join(f"the {f.name} ({_WORDS[f.kind]})" for f in missing)
    return None


def states(answer: str, kind: FactKind) -> bool:
    """Whether `answer` holds something of this kind (text: the model's check judges it)."""
    shape = _SHAPES[kind]
    return shape is None or bool(shape.search(answer))


def worth_retrying(result: RunResult, refused: str | None) -> bool:
    """A result that failed its check is sent back unless a refusal ended it (a worker that
    finished in spite of one, with a wrong answer, may still fix its answer)."""
    return (refused is None or result.success) and result.stop_reason not in FINAL_STOPS
