"""The sign-up demo's task (server.py) and the decisions a capable model would make for it,
for the end-to-end tests: a real browser and the real loop, only the choices are scripted.
Each step reads the element indexes from the observation text, as a model does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..testing.script import find_index, find_text

TASK = ("Sign up Ada Lovelace (ada@example.com) for the Pro plan with promo code SPRING, "
        "and tell me the confirmation number.")

Step = Callable[[str], dict[str, Any]]


def _act(reasoning: str, **action: Any) -> dict[str, Any]:
    return {"reasoning": reasoning, "actions": [action]}


STEPS: list[Step] = [
    lambda t: _act("Fill in the name on the account form.",
                   action="type", index=find_index(t, "Full name"), text="Ada Lovelace"),
    lambda t: _act("Now the email address.",
                   action="type", index=find_index(t, "Email"), text="ada@example.com"),
    lambda t: _act("Choose the Pro plan.",
                   action="select", index=find_index(t, "Plan"), option="Pro — $12/month"),
    lambda t: _act("The account form is complete; continue.",
                   action="click", index=find_index(t, "Continue")),
    lambda t: _act("Enter the promo code in the promo widget.",
                   action="type", index=find_index(t, "Promo code"), text="SPRING"),
    lambda t: _act("Confirm the order.", action="click", index=find_index(t, "Confirm order")),
    lambda t: _act("The confirmation page shows the number.", action="done",
                   answer="Confirmation number: " + find_text(t, r"(ACME-\d{4})")),
]

VERIFY = {"ok": True, "reason": "the confirmation page shows the subscription and its number"}
