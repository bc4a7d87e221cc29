"""The same gate on the desktop: windows, not web pages. Ordinary windows are acted
on, sensitive ones (by title) ask first, secrets go only into windows they are bound to."""

from __future__ import annotations

from operator_agent.permissions.policy import Policy
from operator_agent.permissions.policy_gate import PolicyGate
from operator_agent.permissions.vault import Vault
from operator_agent.types import BBox, ClickAt, Element, Observation, Type, TypeAt


def window(title: str, *elements: Element) -> Observation:
    return Observation(url=f"desktop://:99/{title.replace(' ', '%20')}", title=title, elements=list(elements))


FIELD = Element(index=1, role="textbox", tag="field", name="Password", sensitive=True)


async def test_ordinary_window_is_acted_on_and_a_sensitive_one_asks() -> None:
    gate = PolicyGate(Policy(), interactive=True)
    assert (await gate.check(ClickAt(x=10, y=10), window("Order form"))).decision == "allow"
    asked = await gate.check(ClickAt(x=10, y=10), window("My Bank - Transfers"))
    assert asked.decision == "ask" and "sensitive window" in asked.reason
    assert gate.check_arrival("desktop://:99/Order%20form").decision == "allow"


async def test_secrets_only_into_the_window_they_are_bound_to() -> None:
    vault = Vault()
    vault.add_password("db", "hunter2-db-pass", origins=["desktop:Database login*"])
    gate = PolicyGate(Policy(), vault=vault, interactive=False)
    typed = Type(index=1, text="{{secret:db}}")
    assert (await gate.check(typed, window("Database login", FIELD))).decision == "allow"
    refused = await gate.check(typed, window("Notes", FIELD))
    assert refused.decision == "deny" and "desktop:Database login*" in refused.reason
    literal = await gate.check(Type(index=1, text="hunter2-db-pass"), window("Notes", FIELD))
    assert literal.decision == "deny"


async def test_typing_at_a_point_is_judged_by_the_window_and_the_field_there() -> None:
    gate = PolicyGate(Policy(), interactive=True)
    boxed = FIELD.model_copy(update={"bbox": BBox(x=100, y=100, width=200, height=30)})
    note = Element(index=2, role="textbox", tag="field", name="Note",
                   bbox=BBox(x=100, y=200, width=200, height=30))
    form = window("Order form", boxed, note)
    assert (await gate.check(TypeAt(x=150, y=215, text="hello"), form)).decision == "allow"
    # A password field under the point: only a Type by index fills it (and hides what goes in).
    refused = await gate.check(TypeAt(x=150, y=115, text="hunter2"), form)
    assert refused.decision == "deny" and "type into it with type and its index" in refused.reason
    asked = await gate.check(TypeAt(x=150, y=215, text="100"), window("My Bank - Transfers", note))
    assert asked.decision == "ask" and "sensitive window" in asked.reason
