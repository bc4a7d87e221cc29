"""Scripted solutions for MiniWoB++ tasks: each reads the instruction and the elements
from the observation text and answers with element-index actions, then done.

`wrong_button` is deliberately wrong (it clicks a button the instruction did not
name): the harness must score it 0.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from operator_agent.evals.miniwob import ENDED_NOTE

from .page import El, click, done, elements, find, first, search, select, step, type_

Decision = dict[str, Any]


def _finished(fn: Callable[[str], Decision]) -> Callable[[str], Decision]:
    """Once the page has ended the episode, finish instead of acting again."""

    def wrapper(text: str) -> Decision:
        if ENDED_NOTE in text:
            return step("The page ended the episode.", done("done"))
        return fn(text)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _then_done(reasoning: str, *actions: Decision) -> Decision:
    return step(reasoning, *actions, done("done"))


def _submit(text: str, name: str = "Submit") -> Decision:
    return click(find(text, name, role="button"))


@_finished
def click_button(text: str) -> Decision:
    """click-button, unicode-test: 'Click on the "X" button.'"""
    label = search(r'Click on the "(.+?)" button', text).group(1)
    return _then_done(f"Click {label}.", click(find(text, label, role="button")))


@_finished
def click_link(text: str) -> Decision:
    """click-link: 'Click on the link "X".' (case matters: "Eget" is not "eget")."""
    label = search(r'Click on the link "(.+?)"\.', text).group(1)
    link = first(text, "link", "clickable", name=label)
    return _then_done(f"Click the link {label}.", click(link))


@_finished
def click_option(text: str) -> Decision:
    """click-option: 'Select X and click Submit.'"""
    label = search(r"Select (.+?) and click Submit", text).group(1)
    return _then_done(f"Choose {label}.", click(find(text, label, role="radio")), _submit(text))


@_finished
def click_checkboxes(text: str) -> Decision:
    """click-checkboxes: 'Select A, B and click Submit.' or 'Select nothing and click Submit.'"""
    listed = search(r"Select (.+?) and click Submit", text).group(1)
    parts = [] if listed == "nothing" else re.split(r",\s*|\s+and\s+", listed)
    words = [w.strip() for w in parts if w.strip()]
    boxes = [click(find(text, w, role="checkbox")) for w in words]
    return _then_done(f"Tick {', '.join(words) or 'nothing'}.", *boxes, _submit(text))


@_finished
def choose_list(text: str) -> Decision:
    """choose-list: 'Select X from the list and click Submit.'"""
    option = search(r"Select (.+?) from the list and click Submit", text).group(1)
    box = first(text, "combobox", "listbox")
    return _then_done(f"Pick {option}.", select(box, option), _submit(text))


@_finished
def enter_text(text: str) -> Decision:
    """enter-text: 'Enter "X" into the text field and press Submit.'"""
    value = search(r'Enter "(.*?)" into the text field', text).group(1)
    field = first(text, "textbox")
    return _then_done(f"Type {value}.", type_(field, value), _submit(text))


@_finished
def enter_text_2(text: str) -> Decision:
    """enter-text-2: 'Type "X" in all lower|upper case letters ...'"""
    m = search(r'Type "(.*?)" in all (lower|upper) case letters', text)
    value = m.group(1).lower() if m.group(2) == "lower" else m.group(1).upper()
    field = first(text, "textbox")
    return _then_done(f"Type {value}.", type_(field, value), _submit(text))


@_finished
def enter_password(text: str) -> Decision:
    """enter-password: 'Enter the password "X" into both text fields and press submit.'"""
    pw = search(r'Enter the password "(.*?)" into both', text).group(1)
    first, second = find(text, "Password"), find(text, "Verify password")
    return _then_done("Type the password twice.", type_(first, pw), type_(second, pw), _submit(text))


@_finished
def login_user(text: str) -> Decision:
    """login-user: 'Enter the username "U" and the password "P" ... press login.'"""
    m = search(r'Enter the username "(.*?)" and the password "(.*?)"', text)
    return _then_done("Log in.", type_(find(text, "Username"), m.group(1)),
                      type_(find(text, "Password"), m.group(2)), _submit(text, "Login"))


@_finished
def focus_text(text: str) -> Decision:
    """focus-text: 'Focus into the textbox.'"""
    field = first(text, "textbox")
    return _then_done("Focus the textbox.", click(field))


@_finished
def focus_text_2(text: str) -> Decision:
    """focus-text-2: 'Focus into the Nth input textbox.'"""
    n = int(search(r"Focus into the (\d+)\w\w input textbox", text).group(1))
    fields = [e for e in elements(text) if e.role == "textbox"]
    return _then_done(f"Focus textbox {n}.", click(fields[n - 1]))


@_finished
def click_test(text: str) -> Decision:
    """click-test: 'Click the button.'"""
    return _then_done("Click it.", click(find(text, role="button")))


@_finished
def click_test_2(text: str) -> Decision:
    """click-test-2: 'Click button ONE.' (or TWO)"""
    label = search(r"Click button (\w+)\.", text).group(1)
    return _then_done(f"Click {label}.", click(find(text, label, role="button")))


@_finished
def click_button_sequence(text: str) -> Decision:
    """click-button-sequence: 'Click button ONE, then click button TWO.'"""
    m = search(r"Click button (\w+), then click button (\w+)", text)
    return _then_done("Click both, in order.", click(find(text, m.group(1), role="button")),
                      click(find(text, m.group(2), role="button")))


@_finished
def click_tab(text: str) -> Decision:
    """click-tab: 'Click on Tab #N.'"""
    n = search(r"Click on Tab #(\d+)", text).group(1)
    return _then_done(f"Open tab {n}.", click(find(text, f"Tab #{n}", role="tab")))


@_finished
def click_dialog(text: str) -> Decision:
    """click-dialog: 'Close the dialog box by clicking the "x".'"""
    return _then_done("Close the dialog.", click(find(text, "Close", role="button")))


@_finished
def click_dialog_2(text: str) -> Decision:
    """click-dialog-2: 'Click the button in the dialog box labeled "X".' ("x" is the close button)"""
    label = search(r'dialog box labeled "(.+?)"', text).group(1)
    target = find(text, "Close" if label == "x" else label, role="button")
    return _then_done(f"Click {label}.", click(target))


@_finished
def use_spinner(text: str) -> Decision:
    """use-spinner: 'Select N with the spinner and hit Submit.'"""
    n = search(r"Select (-?\d+) with the spinner", text).group(1)
    return _then_done(f"Set {n}.", type_(find(text, role="spinbutton"), n), _submit(text))


@_finished
def simple_arithmetic(text: str) -> Decision:
    """simple-arithmetic: a textbox labelled "A op B =" takes the result."""
    field: El = next((e for e in elements(text) if e.role == "textbox" and e.name.rstrip().endswith("=")),
                     first(text, "textbox"))
    m = re.fullmatch(r"\s*(-?\d+)\s*([-+x*/])\s*(-?\d+)\s*=\s*", field.name)
    if m is None:
        raise LookupError(f"no arithmetic in {field.name!r}")
    a, op, b = int(m.group(1)), m.group(2), int(m.group(3))
    value = {"+": a + b, "-": a - b, "x": a * b, "*": a * b, "/": a // b if b else 0}[op]
    return _then_done(f"{a} {op} {b} = {value}.", type_(field, str(value)), _submit(text))


@_finished
def wrong_button(text: str) -> Decision:
    """Deliberately wrong for click-button: clicks a button the instruction did not name."""
    label = search(r'Click on the "(.+?)" button', text).group(1)
    others = [e for e in elements(text) if e.name != label and e.role in ("button", "textbox")]
    if not others:
        raise LookupError("nothing else to click")
    return _then_done("Click something else.", click(others[0]))


SOLVED: dict[str, Callable[[str], Decision]] = {
    "click-button": click_button, "unicode-test": click_button, "click-link": click_link,
    "click-option": click_option, "click-checkboxes": click_checkboxes, "choose-list": choose_list,
    "enter-text": enter_text, "enter-text-2": enter_text_2, "enter-password": enter_password,
    "login-user": login_user, "focus-text": focus_text, "focus-text-2": focus_text_2,
    "click-test": click_test, "click-test-2": click_test_2, "click-button-sequence": click_button_sequence,
    "click-tab": click_tab, "click-dialog": click_dialog, "click-dialog-2": click_dialog_2,
    "use-spinner": use_spinner, "simple-arithmetic": simple_arithmetic,
}
