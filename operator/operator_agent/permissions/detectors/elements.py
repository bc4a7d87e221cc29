"""Small readers of Elements and Observations shared by the detectors."""

from __future__ import annotations

import re
import unicodedata

from ...types import Action, Element, Observation, Type
from ..hosts import URLError, parse

_BUTTON_ROLES = {"button", "link", "menuitem", "menuitemradio", "option", "tab", "switch"}
_SUBMIT_TYPES = {"submit", "button", "image"}
_TEXT_ROLES = {"textbox", "searchbox", "combobox", "spinbutton"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str, limit: int = 120) -> str:
    """Page text safe to show a person: no control or bidi-override characters
    (a page must not repaint the approval prompt), one line, bounded."""
    text = " ".join(_CONTROL.sub("", unicodedata.normalize("NFC", text)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def label(el: Element) -> str:
    """Everything a person or a form would call this element, lower case."""
    a = el.attributes
    return " ".join(filter(None, (el.name, el.placeholder, a.get("name"), a.get("id"),
                                  a.get("autocomplete"), a.get("aria-label")))).lower()


def is_control(el: Element) -> bool:
    """Something clicking activates: a button, link, menu item, or submit input."""
    if el.role in _BUTTON_ROLES or el.tag == "button":
        return True
    return el.tag == "input" and el.attributes.get("type", "").lower() in _SUBMIT_TYPES


def is_button(el: Element) -> bool:
    return el.role == "button" or el.tag == "button" or (
        el.tag == "input" and el.attributes.get("type", "").lower() in _SUBMIT_TYPES)


def is_submit(el: Element) -> bool:
    """A control that submits its form: <input type=submit|image>, or a <button>
    without type="button"/"reset" (a button's type defaults to submit)."""
    kind = el.attributes.get("type", "").lower()
    if el.tag == "input":
        return kind in ("submit", "image")
    return el.tag == "button" and kind in ("", "submit")


def is_text_field(el: Element) -> bool:
    return el.role in _TEXT_ROLES or (el.tag in ("input", "textarea") and not is_button(el))


def submits(action: Action) -> bool:
    """A Type that ends by pressing Enter: `submit`, or a newline typed key by key
    (clear=False types each character, and a typed newline is an Enter press)."""
    if not isinstance(action, Type):
        return False
    return action.submit or (not action.clear and ("\n" in action.text or "\r" in action.text))


def autocomplete_tokens(el: Element) -> set[str]:
    return set(el.attributes.get("autocomplete", "").lower().split())


def frame_url(el: Element | None, obs: Observation) -> str:
    """The URL of the document the element lives in ("" frame = the page itself)."""
    return el.frame if el is not None and el.frame else obs.url


def host_of(url: str) -> str:
    try:
        return parse(url).host
    except URLError:
        return ""


def origin_of(url: str) -> str:
    try:
        return parse(url).origin
    except URLError:
        return ""


def merchant_of(obs: Observation) -> str:
    host = host_of(obs.url)
    return host[4:] if host.startswith("www.") else host


def text_lines(obs: Observation) -> list[str]:
    """The page-text lines of an observation: no header, element or summary lines."""
    out = []
    for line in obs.text.splitlines():
        s = line.strip()
        if not s or s.startswith(("url:", "title:", "tabs:", "page:", "... ", "-- frame", "-- end frame")):
            continue
        if re.match(r"\[\d+\] ", s):
            continue
        out.append(s.lstrip("#! ").strip())
    return out


def filled_values(obs: Observation) -> list[str]:
    """The visible values of non-secret text fields (what a form would send)."""
    return sorted(clean_text(el.value, 200) for el in obs.elements
                  if el.value and not el.sensitive and is_text_field(el))
