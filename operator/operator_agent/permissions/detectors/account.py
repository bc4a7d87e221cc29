"""Account changes: changing a password, e-mail address or postal address,
deleting things (above all the account), and sending messages in the person's
name. Typing into such a form is harmless; submitting it is what counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ...types import Action, Click, Element, Observation, Press, Type
from .elements import (
    autocomplete_tokens,
    clean_text,
    filled_values,
    host_of,
    is_button,
    is_control,
    is_text_field,
    label,
    submits,
)

Kind = Literal["account_change", "deletion", "message"]

_DELETE_ACCOUNT = re.compile(r"\b(?:delete|close|deactivate|terminate|remove|erase|cancel)\b.*\baccount\b"
                             r"|\baccount\b.*\b(?:deletion|closure)\b")
_DELETE = re.compile(r"\bdelete\b|\berase\b|\bwipe\b|\bpermanently\b|\bdestroy\b|\bdeactivate\b")
_CANCEL = re.compile(r"\bcancel (?:my |your |the )?"
                     r"(?:subscription|membership|plan|order|booking|reservation)\b|\bunsubscribe\b")
_PASSWORD = re.compile(r"\b(?:change|update|reset|save|set|new)\b.*\bpassword\b")
_EMAIL = re.compile(r"\b(?:change|update|save|edit|new)\b.*\be-?mail(?: address)?\b")
_ADDRESS = re.compile(r"\b(?:change|update|save|edit|add|delete|remove|new)\b.*\baddress\b")
_SEND = re.compile(r"\b(?:send|post|publish|tweet|toot|submit (?:comment|review|post))\b")
_NOT_SEND = re.compile(r"\b(?:code|link|verification|otp|again|resend|me|feedback form)\b|\bsend to cart\b")
GENERIC_SUBMIT = re.compile(r"^(?:save|save changes|update|submit|confirm|apply|done|ok|continue|change)\b")
_NEW_PASSWORD = re.compile(r"new.?pass|confirm.?pass|repeat.?pass|change.?pass")
_NEW_EMAIL = re.compile(r"new.?e-?mail|change.?e-?mail|confirm.?e-?mail")
_ADDRESS_FIELD = re.compile(r"\baddress\b|street|postcode|postal|\bzip\b")
_ADDRESS_AC = {"street-address", "address-line1", "address-line2", "postal-code", "address-level1",
               "address-level2"}
_MESSAGE_FIELD = re.compile(r"\bmessage\b|\bcomment\b|\breply\b|\bpost\b|\bwrite\b|\bcompose\b|\btweet\b"
                            r"|what.s on your mind|\bchat\b|\bbody\b")
_SIGNUP = re.compile(r"sign ?up|create (?:an |your |a new )?account|register|join now", re.I)
_SETTINGS = re.compile(r"account|setting|profile|address book|addresses|preferences|security", re.I)
_CHECKOUT = re.compile(r"checkout|cart|basket|/order", re.I)


@dataclass(frozen=True)
class AccountChange:
    kind: Kind
    what: str  # "password change", "account deletion", "sending a message" ...
    why: str  # the action that does it, for the person
    fingerprint: str  # what the approval is bound to: control, page and filled-in values


def detect(action: Action, obs: Observation) -> AccountChange | None:
    el = obs.element(action.index) if isinstance(action, Click | Type) else None
    found = _classify(action, obs, el)
    if found is None:
        return None
    kind, what, why = found
    control = clean_text(el.name, 80) if el is not None else getattr(action, "keys", "")
    url_path = obs.url.split("?", 1)[0]
    fingerprint = "\n".join([kind, what, host_of(obs.url), url_path, control, *filled_values(obs)])
    return AccountChange(kind=kind, what=what, why=why, fingerprint=fingerprint)


def _classify(action: Action, obs: Observation, el: Element | None) -> tuple[Kind, str, str] | None:
    if isinstance(action, Click) and el is not None and is_control(el):
        text = " ".join(filter(None, (el.name, el.attributes.get("id"), el.attributes.get("name")))).lower()
        why = f'clicking "{clean_text(el.name, 60)}" [{el.index}]'
        named = _by_name(text, obs, el)
        if named is not None:
            return (*named, why)
        if is_button(el) and GENERIC_SUBMIT.search(el.name.lower()):
            ctx = _form_context(obs)
            if ctx is not None:
                return (*ctx, why)
        return None
    if isinstance(action, Type) and submits(action) and el is not None:
        why = f"pressing Enter in [{el.index}]"
        if is_text_field(el) and _MESSAGE_FIELD.search(label(el)):
            return "message", "sending a message", why
        ctx = _form_context(obs)
        return (*ctx, why) if ctx is not None else None
    if isinstance(action, Press) and {k.rsplit("+", 1)[-1].lower() for k in action.keys.split()} & {"enter"}:
        why = f"pressing {action.keys}"
        if any(e.value and is_text_field(e) and _MESSAGE_FIELD.search(label(e)) for e in obs.elements):
            return "message", "sending a message", why
        ctx = _form_context(obs)
        return (*ctx, why) if ctx is not None else None
    return None


def _by_name(text: str, obs: Observation, el: Element) -> tuple[Kind, str] | None:
    if _DELETE_ACCOUNT.search(text):
        return "deletion", "account deletion"
    if _DELETE.search(text):
        return "deletion", "deletion"
    if _CANCEL.search(text):
        return "account_change", "cancellation"
    if _PASSWORD.search(text) and not _signup(obs):
        return "account_change", "password change"
    if _EMAIL.search(text) and not _signup(obs):
        return "account_change", "e-mail change"
    if _ADDRESS.search(text) and not _checkout(obs):
        return "account_change", "address change"
    if is_button(el) and _SEND.search(text) and not _NOT_SEND.search(text):
        return "message", "sending a message"
    return None


def _form_context(obs: Observation) -> tuple[Kind, str] | None:
    """What a generic Save/Submit on this page would change, if it is an account form."""
    fields = [e for e in obs.elements if is_text_field(e) or e.tag == "select"]
    if not _signup(obs) and any("new-password" in autocomplete_tokens(e) or _NEW_PASSWORD.search(label(e))
                                for e in fields):
        return "account_change", "password change"
    if not _signup(obs) and any(_NEW_EMAIL.search(label(e)) for e in fields):
        return "account_change", "e-mail change"
    if not _checkout(obs) and _SETTINGS.search(f"{obs.url} {obs.title}") and any(
            autocomplete_tokens(e) & _ADDRESS_AC or _ADDRESS_FIELD.search(label(e)) for e in fields):
        return "account_change", "address change"
    return None


def _signup(obs: Observation) -> bool:
    return bool(_SIGNUP.search(f"{obs.url} {obs.title}"))


def _checkout(obs: Observation) -> bool:
    return bool(_CHECKOUT.search(obs.url) or re.search(r"\b(?:order )?total\b", obs.text, re.I))
