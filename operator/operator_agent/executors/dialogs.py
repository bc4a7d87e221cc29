"""JavaScript dialogs (alert, confirm, prompt, beforeunload) a page opens.

Playwright dismisses a dialog nobody handles, silently: the model never learned that
a confirm() appeared, nor that its question was answered. Here every dialog is
noted for the action that caused it, and answered without guessing yes: an alert
can only be acknowledged; leaving a page (beforeunload) goes on, as the action
asked; a confirm or a prompt is a question to the person, so it is put to
`answer` (wired to the person by whoever builds the executor) and is Cancel when
nobody answers. Page text is quoted to the model as data, never obeyed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from playwright.async_api import Dialog, Page
from playwright.async_api import Error as PlaywrightError

from ..permissions.detectors.elements import clean_text


@dataclass(frozen=True)
class SeenDialog:
    kind: str  # alert | confirm | prompt | beforeunload
    message: str
    origin: str  # the page that opened it
    accepted: bool

    def describe(self) -> str:
        said = f"{self.kind}({clean_text(self.message, 200)!r})"
        if self.kind in ("confirm", "prompt"):
            answer = "OK" if self.accepted else "Cancel: only the person answers a page's question"
            return f"the page {self.origin} asked {said}; answered {answer}"
        return f"the page {self.origin} showed {said}"


# The person's answer to a page's confirm/prompt: True for OK. None: nobody to ask.
Answer = Callable[[SeenDialog], Awaitable[bool]]


class DialogWatch:
    """Answers the dialogs of the pages it watches and keeps them for the action's result."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.answer = answer
        self.seen: list[SeenDialog] = []

    def attach(self, page: Page) -> None:
        page.on("dialog", self._on_dialog)

    def take(self) -> list[SeenDialog]:
        seen, self.seen = self.seen, []
        return seen

    async def _on_dialog(self, dialog: Dialog) -> None:
        page = dialog.page
        origin = page.url.split("?")[0][:120] if page is not None else "?"
        asked = SeenDialog(dialog.type, dialog.message, origin, accepted=False)
        accept = dialog.type in ("alert", "beforeunload")
        if not accept and self.answer is not None:
            accept = await self.answer(asked)
        self.seen.append(SeenDialog(dialog.type, dialog.message, origin, accepted=accept))
        with contextlib.suppress(PlaywrightError):  # the page may be gone already
            if accept:
                # A prompt answered OK keeps the page's own default: the model's text is never typed here.
                await dialog.accept(dialog.default_value if dialog.type == "prompt" else None)
            else:
                await dialog.dismiss()
