"""Helpers shared by the skills tests (imported by name: the tests folders are not packages)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from operator_agent.builder import Permissions, permissions
from operator_agent.permissions.gate import CallbackApprover
from operator_agent.skills.format import Skill
from operator_agent.types import Action, Verdict

CARD = {"card_number": "4242 4242 4242 4242", "card_expiry": "12 / 34", "card_cvc": "123"}


@dataclass
class Learned:
    recording: Path
    skill: Skill
    skill_path: Path
    chosen: str  # what the person picked (product title, booking reference)



def approving(run_id: str, asked: list[Verdict], **overrides: Any) -> Permissions:
    """The policy gate as for a person at a terminal, who is asked and answers yes."""
    perms = permissions(run_id=run_id, interactive=True, overrides=overrides)

    def yes(verdict: Verdict, action: Action) -> bool:
        asked.append(verdict)
        return True

    perms.approver = CallbackApprover(yes)
    return perms
