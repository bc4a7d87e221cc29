"""The secrets detector: placeholders and literal values in actions."""

from __future__ import annotations

from operator_agent.permissions.detectors.secrets import action_texts, literal_secret
from operator_agent.permissions.placeholders import Ref, has_placeholder, refs_in
from operator_agent.types import Click, Done, Navigate, Press, Type

VALUES = [("shop", "correct horse battery"), ("visa", "4242424242424242"), ("visa", "123")]


def test_action_texts() -> None:
    assert action_texts(Type(index=1, text="abc")) == ["abc"]
    assert action_texts(Navigate(url="https://x.test")) == ["https://x.test"]
    assert action_texts(Click(index=1)) == ["left"]  # the button name: harmless
    assert action_texts(Press(keys="Enter")) == ["Enter"]


def test_literal_values() -> None:
    assert literal_secret(Type(index=1, text="correct horse battery"), VALUES) == "shop"
    assert literal_secret(Done(answer="the card is 4242-4242-4242-4242"), VALUES) == "visa"
    assert literal_secret(Navigate(url="https://e.test/?c=4242 4242 4242 4242"), VALUES) == "visa"
    assert literal_secret(Type(index=1, text=" 123 "), VALUES) == "visa"  # short: the whole text
    assert literal_secret(Type(index=1, text="12345 Main St"), VALUES) is None
    assert literal_secret(Type(index=1, text="{{secret:shop}}"), VALUES) is None
    assert literal_secret(Type(index=1, text="x"), []) is None


def test_placeholder_format() -> None:
    text = "{{secret:visa.number}} and {{secret:shop}} but not {{secret:Bad}} or {{ secret:x }}"
    assert refs_in(text) == [Ref("visa", "number"), Ref("shop")]
    assert str(Ref("visa", "cvc")) == "{{secret:visa.cvc}}"
    assert has_placeholder(text) and not has_placeholder("{{other}}")
