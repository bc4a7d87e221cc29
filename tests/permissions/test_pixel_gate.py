"""Pixel actions in a browser pass the gate as the same action on what is under the point:
a click_at on "Pay" is a click on "Pay", a point inside a payment frame acts in that frame,
and a point over nothing listed is asked about on a page that takes payment."""

from __future__ import annotations

from playwright.async_api import expect

from operator_agent.perception.browser import DomPerceiver
from operator_agent.permissions.detectors import points
from operator_agent.permissions.policy import Policy
from operator_agent.permissions.policy_gate import PolicyGate
from operator_agent.types import (
    BBox,
    Click,
    ClickAt,
    Drag,
    Element,
    MoveMouse,
    Observation,
    Scroll,
    Type,
    TypeAt,
    Verdict,
)


async def open_checkout(page, pages_server, other_origin_server) -> Observation:
    await page.goto(pages_server.url(f"/permissions/checkout.html?pay={other_origin_server.origin}"))
    await expect(page.frame_locator("#payment-frame").locator("#pay-button")).to_be_enabled()
    return await DomPerceiver().observe(page)


def named(observation: Observation, name: str) -> Element:
    return next(e for e in observation.elements if e.name == name)


def centre(el: Element) -> tuple[int, int]:
    assert el.bbox is not None
    x, y = el.bbox.center
    return round(x), round(y)


async def verdict(action, observation: Observation, *, interactive: bool,
                  policy: Policy | None = None) -> Verdict:
    """A fresh gate per check: nothing granted earlier colours the answer."""
    return await PolicyGate(policy or Policy(), interactive=interactive).check(action, observation)


async def test_click_at_on_pay_is_a_click_on_pay(page, pages_server, other_origin_server) -> None:
    checkout = await open_checkout(page, pages_server, other_origin_server)
    pay = named(checkout, "Pay $23.40")
    assert pay.frame.startswith(other_origin_server.origin)  # inside the processor's cross-origin frame
    x, y = centre(pay)
    for interactive in (True, False):
        by_index = await verdict(Click(index=pay.index), checkout, interactive=interactive)
        by_pixel = await verdict(ClickAt(x=x, y=y), checkout, interactive=interactive)
        assert by_index.decision == ("ask" if interactive else "deny")
        assert (by_pixel.decision, by_pixel.reason, by_pixel.summary) == (
            by_index.decision, by_index.reason, by_index.summary)
        if interactive:  # the same purchase to approve, bound to the same amount
            assert by_pixel.summary.startswith("Purchase at Brightcart (127.0.0.1)")
            assert "amount: 23.40 USD" in by_pixel.summary
    # Pressed elsewhere and released on Pay, or typed at Pay: the same question.
    drag = await verdict(Drag(from_x=5, from_y=5, to_x=x, to_y=y), checkout, interactive=False)
    assert drag.decision == "deny" and f'clicking "Pay $23.40" [{pay.index}]' in drag.reason
    typed = await verdict(TypeAt(x=x, y=y, text="x"), checkout, interactive=False)
    assert typed.decision == "deny" and "purchase" in typed.reason


async def test_a_point_in_the_payment_frame_acts_inside_it(page, pages_server, other_origin_server) -> None:
    checkout = await open_checkout(page, pages_server, other_origin_server)
    number = named(checkout, "Card number")
    x, y = centre(number)
    on_field = await verdict(ClickAt(x=x, y=y), checkout, interactive=True)
    assert on_field.decision == "ask" and "acting inside the payment frame of localhost" in on_field.reason
    # Between the frame's fields (a label, padding): no element, but the frame's area.
    area = points.frame_areas(checkout)[number.frame]
    blank = next((px, py) for py in range(round(area.y), round(area.y + area.height), 3)
                 for px in range(round(area.x), round(area.x + area.width), 3)
                 if not points.elements_at(checkout, px, py))
    between = await verdict(ClickAt(x=blank[0], y=blank[1]), checkout, interactive=True)
    assert between.decision == "ask" and "acting inside the payment frame of localhost" in between.reason
    unattended = await verdict(ClickAt(x=blank[0], y=blank[1]), checkout, interactive=False)
    assert unattended.decision == "deny" and "payment frame" in unattended.reason


async def test_a_point_over_nothing_asks_only_where_payment_is(page, pages_server,
                                                               other_origin_server) -> None:
    checkout = await open_checkout(page, pages_server, other_origin_server)
    far = ClickAt(x=1270, y=790)  # the empty bottom right corner of the viewport
    assert not points.elements_at(checkout, far.x, far.y) and points.frame_at(checkout, far.x, far.y) is None
    asked = await verdict(far, checkout, interactive=True)
    assert asked.decision == "ask" and "hits no listed element" in asked.reason
    assert "click_at at (1270, 790)" in asked.summary
    denied = await verdict(far, checkout, interactive=False)
    assert denied.decision == "deny" and "nobody can approve it" in denied.reason
    # Pre-approving purchases does not pre-approve a click nobody can check.
    trusting = Policy().with_overrides({"without_asking": ["payment"]})
    assert (await verdict(far, checkout, interactive=False, policy=trusting)).decision == "deny"
    # Hovering and scrolling there change nothing.
    for looks in (MoveMouse(x=far.x, y=far.y), Scroll(x=far.x, y=far.y)):
        assert (await verdict(looks, checkout, interactive=False)).decision == "allow"

    plain = Observation(url="https://shop.test/", text="url: https://shop.test/\nWelcome",
                        elements=[Element(index=1, role="link", tag="a", name="Cables",
                                          bbox=BBox(x=10, y=10, width=80, height=20))])
    assert (await verdict(ClickAt(x=600, y=400), plain, interactive=False)).decision == "allow"


def _field(index: int, name: str, x: float, *, sensitive: bool = False, **attributes: str) -> Element:
    return Element(index=index, role="textbox", tag="input", name=name, sensitive=sensitive,
                   attributes=attributes, bbox=BBox(x=x, y=100, width=200, height=30))


async def test_typing_at_a_point_is_typing_into_the_field_there() -> None:
    login = Observation(url="https://shop.test/login", text="url: https://shop.test/login",
                        elements=[_field(1, "Email", 10), _field(2, "Password", 300, sensitive=True,
                                                                 type="password")])
    email = await verdict(TypeAt(x=50, y=110, text="ada@example.org"), login, interactive=False)
    assert email.decision == "allow"
    # Passwords and cards only by index: only a Type fills placeholders and keeps the text out of traces.
    password = await verdict(TypeAt(x=350, y=110, text="hunter2"), login, interactive=False)
    assert password.decision == "deny" and "[2] at (350, 110) is a password or card field" in password.reason
    secret = await verdict(TypeAt(x=50, y=110, text="{{secret:shop.password}}"), login, interactive=False)
    assert secret.decision == "deny" and "type into the field with type and its index" in secret.reason
    by_index = await verdict(Type(index=1, text="ada@example.org"), login, interactive=False)
    assert by_index.decision == "allow"
