"""Account changes on a real settings page, and by wording."""

from __future__ import annotations

from operator_agent.permissions.detectors import account
from operator_agent.types import Click, Observation, Press, Type


def named(observation: Observation, name: str) -> int:
    return next(e.index for e in observation.elements if e.name == name)


async def test_settings_page(perceive) -> None:
    page = await perceive("/permissions/account.html")
    expected = {
        "Update password": ("account_change", "password change"),
        "Change email": ("account_change", "e-mail change"),
        "Save address": ("account_change", "address change"),
        "Send": ("message", "sending a message"),
        "Delete account": ("deletion", "account deletion"),
    }
    for button, (kind, what) in expected.items():
        change = account.detect(Click(index=named(page, button)), page)
        assert change is not None, button
        assert (change.kind, change.what) == (kind, what)
        assert button in change.why
    for harmless in ("Send me a code", "Download my data"):
        assert account.detect(Click(index=named(page, harmless)), page) is None, harmless
    # Typing is not the change; submitting is.
    assert account.detect(Type(index=named(page, "Message"), text="Hello"), page) is None
    sent = account.detect(Type(index=named(page, "Message"), text="Hello", submit=True), page)
    assert sent is not None and sent.kind == "message"
    # Typed key by key, a newline is an Enter press.
    keyed = account.detect(Type(index=named(page, "Message"), text="Hello\n", clear=False), page)
    assert keyed is not None and keyed.kind == "message"


async def test_the_approval_is_bound_to_what_was_filled_in(page, perceive) -> None:
    before = await perceive("/permissions/account.html")
    send = named(before, "Send")
    first = account.detect(Click(index=send), before)
    await page.fill("textarea[name=message]", "Meet at noon")
    after = await perceive_again(page)
    second = account.detect(Click(index=named(after, "Send")), after)
    assert first is not None and second is not None
    assert first.fingerprint != second.fingerprint
    assert "Meet at noon" in second.fingerprint


async def perceive_again(page) -> Observation:
    from operator_agent.perception.browser import DomPerceiver

    return await DomPerceiver().observe(page)


def test_wording(make) -> None:
    cases = {
        "Close my account": "account deletion", "Delete": "deletion",
        "Permanently delete photos": "deletion", "Cancel subscription": "cancellation",
        "Reset password": "password change", "Update e-mail address": "e-mail change",
        "Add new address": "address change", "Post": "sending a message", "Publish": "sending a message",
    }
    for text, what in cases.items():
        o = make.obs("https://site.test/settings", make.el(1, "button", text))
        change = account.detect(Click(index=1), o)
        assert change is not None and change.what == what, text
    for text in ("Save for later", "Add to cart", "Resend code", "Send verification link", "Posts", "Search"):
        o = make.obs("https://site.test/settings", make.el(1, "button", text))
        assert account.detect(Click(index=1), o) is None, text
    # A link called "Post" is navigation, not sending.
    assert account.detect(Click(index=1), make.obs("https://s.test/", make.el(1, "link", "Post"))) is None


def test_generic_save_on_account_forms(make) -> None:
    pw = make.obs("https://site.test/account", make.el(1, "textbox", "New password", sensitive=True,
                                                       autocomplete="new-password"),
                  make.el(2, "button", "Save changes"))
    assert account.detect(Click(index=2), pw).what == "password change"  # type: ignore[union-attr]
    # The same form on a sign-up page creates an account: not a change of one.
    signup = make.obs("https://site.test/signup", *pw.elements, title="Create your account")
    assert account.detect(Click(index=2), signup) is None
    street = make.el(1, "textbox", "Street", autocomplete="address-line1")
    addr = make.obs("https://site.test/account/addresses", street, make.el(2, "button", "Save"))
    assert account.detect(Click(index=2), addr).what == "address change"  # type: ignore[union-attr]
    # Delivery addresses during checkout are part of the purchase, asked about there.
    checkout = make.obs("https://shop.test/checkout/shipping", *addr.elements)
    assert account.detect(Click(index=2), checkout) is None


def test_enter_in_a_filled_message_box(make) -> None:
    o = make.obs("https://chat.test/", make.el(1, "textbox", "Write a message", value="hi"))
    change = account.detect(Press(keys="Enter"), o)
    assert change is not None and change.kind == "message"
    empty = make.obs("https://chat.test/", make.el(1, "textbox", "Write a message"))
    assert account.detect(Press(keys="Enter"), empty) is None
