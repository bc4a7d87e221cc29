"""Only the manager talks to the person: every worker's approval questions and questions for
the person come through one desk, one at a time, each naming its worker ("worker 2 (HDMI
cable): Purchase at Brightcart ...").

One at a time, because workers run at once and a person answers one question, not two
half-printed ones; the question is named, because "Allow this?" means nothing without
knowing which of several jobs asks. The gate still binds each answer to what its own
worker asked (the summary it gave is the key; the named copy is only what the person
reads), and each worker's gate writes the audit log under the worker's run id.

A worker's ask_user goes to the person the same way when one is there, and gets no
answer when nobody is. The manager does not answer it from the request itself: each
sub-task already carries every detail of the request it needs, so a worker's question is
about something the request does not say, and a model answering it would be guessing on
the person's behalf.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ..protocols import Approver, UserChannel
from ..types import Action, Verdict


@dataclass(frozen=True)
class Asked:
    """One question put to the person for a worker, and the answer."""

    worker: str  # the label: "worker 2 (HDMI cable)"
    kind: Literal["approval", "question"]
    text: str  # what the person was shown, named
    answer: str  # "yes" / "no" for an approval; the answer, or "" when none came


class PersonDesk:
    """The person, as the workers reach them: `approver(label)`, `user(label)`."""

    def __init__(self, approver: Approver, user: UserChannel | None = None, *, interactive: bool,
                 on_asked: Callable[[Asked], None] | None = None) -> None:
        self._approver = approver
        self._user = user
        self.interactive = interactive  # someone can answer: the workers' gates may ask
        self.on_asked = on_asked  # e.g. the manager's trace
        self.asked: list[Asked] = []
        self._lock = asyncio.Lock()  # one question to the person at a time

    def approver(self, label: str) -> Approver:
        return _WorkerApprover(self, label)

    def user(self, label: str) -> UserChannel | None:
        return _WorkerUser(self, label) if self._user is not None else None

    async def approve(self, label: str, verdict: Verdict, action: Action) -> bool:
        shown = verdict.model_copy(update={"summary": named(label, verdict.summary or verdict.reason),
                                           "reason": named(label, verdict.reason)})
        async with self._lock:
            approved = await self._approver.approve(shown, action)
        self._note(Asked(label, "approval", shown.summary, "yes" if approved else "no"))
        return approved

    async def ask(self, label: str, question: str) -> str | None:
        if self._user is None:
            return None
        text = named(label, question)
        async with self._lock:
            answer = await self._user.ask(text)
        self._note(Asked(label, "question", text, answer or ""))
        return answer

    def _note(self, asked: Asked) -> None:
        self.asked.append(asked)
        if self.on_asked is not None:
            self.on_asked(asked)


def named(label: str, text: str) -> str:
    return f"{label}: {text}"


class _WorkerApprover:
    def __init__(self, desk: PersonDesk, label: str) -> None:
        self.desk, self.label = desk, label

    async def approve(self, verdict: Verdict, action: Action) -> bool:
        return await self.desk.approve(self.label, verdict, action)


class _WorkerUser:
    def __init__(self, desk: PersonDesk, label: str) -> None:
        self.desk, self.label = desk, label

    async def ask(self, question: str) -> str | None:
        return await self.desk.ask(self.label, question)
