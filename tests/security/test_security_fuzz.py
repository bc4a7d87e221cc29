"""Fuzzing what a compromised (or broken) model controls: its reply text, parsed
into a Decision as the OpenAI planner parses it, and the actions it asks for,
checked by the policy gate. A clear error or a refusal, never a crash or an allow.

(The policy loader and the URL parser are fuzzed in tests/permissions.)
"""

from __future__ import annotations

import asyncio
import json
import os
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from operator_agent.permissions.audit import AuditLog
from operator_agent.permissions.hosts import pattern
from operator_agent.permissions.placeholders import refs_in
from operator_agent.permissions.policy import Policy
from operator_agent.permissions.policy_gate import PolicyGate
from operator_agent.permissions.vault import Vault
from operator_agent.planner.openai import _parse, extract_json
from operator_agent.planner.scripted import ScriptedPlanner
from operator_agent.types import (
    AskUser,
    Back,
    Click,
    CloseTab,
    Decision,
    Done,
    Element,
    Navigate,
    Observation,
    Press,
    Scroll,
    Select,
    SwitchTab,
    Type,
    Upload,
    Verdict,
    Wait,
)

# SEC_FUZZ_EXAMPLES=5000 for a longer hunt; the default keeps the suite quick.
FUZZ = settings(max_examples=int(os.environ.get("SEC_FUZZ_EXAMPLES", "200")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# --- the model's reply -> Decision ---------------------------------------------------------------

ACTION_NAMES = ["click", "type", "select", "press", "scroll", "navigate", "back", "switch_tab", "close_tab",
                "upload", "wait", "ask_user", "done", "Click", "clіck", "navіgate", "", "shell", "eval"]
KEYS = ["reasoning", "actions", "action", "index", "text", "url", "keys", "option", "path", "seconds",
        "pages", "direction", "tab", "answer", "success", "question", "submit", "clear", "button",
        "double", "preference_ids", "__proto__", "reasonіng", "ａctions"]
CONFUSABLE = "аеорсуіѕјԁһɡ０１ｓｈｏｐ\u200b\u200d\u202e\ufeff\u00a0ß"
ODD_TEXT = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(list(CONFUSABLE)), max_size=60)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-2**70, max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | ODD_TEXT | st.sampled_from(ACTION_NAMES),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.sampled_from(KEYS) | ODD_TEXT, inner,
                                                                max_size=6),
    max_leaves=30)

actions = st.one_of(
    st.builds(Click, index=st.integers(-5, 10**6), button=st.sampled_from(["left", "right", "middle"]),
              double=st.booleans()),
    st.builds(Type, index=st.integers(0, 99), text=ODD_TEXT, clear=st.booleans(), submit=st.booleans()),
    st.builds(Select, index=st.integers(0, 99), option=ODD_TEXT),
    st.builds(Press, keys=ODD_TEXT),
    st.builds(Scroll, direction=st.sampled_from(["up", "down", "left", "right"]),
              pages=st.floats(-5, 5, allow_nan=False), index=st.none() | st.integers(0, 99)),
    st.builds(Navigate, url=ODD_TEXT),
    st.builds(Back), st.builds(SwitchTab, tab=st.integers(-3, 30)), st.builds(CloseTab),
    st.builds(Upload, index=st.integers(0, 99), path=ODD_TEXT),
    st.builds(Wait, seconds=st.floats(0, 10)),
    st.builds(AskUser, question=ODD_TEXT), st.builds(Done, answer=ODD_TEXT, success=st.booleans()),
)
decisions = st.builds(Decision, reasoning=ODD_TEXT, actions=st.lists(actions, min_size=1, max_size=8),
                      preference_ids=st.lists(ODD_TEXT, max_size=3))
# How replies come back: bare, fenced, in prose (what extract_json is made for)...
WRAPS = ["{}", "```json\n{}\n```", "Sure! Here is my decision:\n{}\nGood luck.", "```\n{}```", "\ufeff{}",
         " \n{}\n "]
# ...and ways it is not made for, which must still end in a clear error, never a crash.
ODD_WRAPS = ["{} {{\"reasoning\": \"second object\"}}", "<think>{{</think>{}", "{}}}}}", "[{}]", "{{{}"]


def parse_reply(text: str) -> Decision | None:
    """What OpenAIPlanner does with a reply: a Decision, or an error it repairs/reports."""
    try:
        extract_json(text)
        return _parse(Decision, text)
    except (ValidationError, ValueError):  # the only errors the planner catches
        return None


@FUZZ
@given(st.one_of(
    st.text(max_size=400),
    st.text(alphabet=string.printable + CONFUSABLE + "{}[]\":,", max_size=400),
    json_values.map(lambda v: json.dumps(v, ensure_ascii=False)),
    st.tuples(st.sampled_from(WRAPS + ODD_WRAPS), json_values).map(
        lambda t: t[0].replace("{}", json.dumps(t[1]), 1)),
    st.tuples(st.sampled_from(ODD_WRAPS), decisions).map(
        lambda t: t[0].replace("{}", t[1].model_dump_json(), 1)),
))
@example("{" * 50_000)
@example("[" * 50_000 + "]" * 50_000)
@example('{"reasoning": "x", "actions": [' + '{"action": "back"},' * 10_000 + '{"action": "back"}]}')
@example('{"reasoning": "' + "x" * 2_000_000 + '", "actions": [{"action": "back"}]}')
@example('{"reasoning": "x", "actions": [{"action": "click", "index": 1' + "0" * 5000 + "}]}")
@example('{"reasoning": "x", "actions": [{"action": "wait", "seconds": NaN}]}')
@example('{"reasoning": "x", "actions": [{"action": "navigate", "url": "javascript:alert(1)", "x": 1}]}')
@example('{"reasoning": "x", "actions": [{"action": "clіck", "index": 1}]}')  # Cyrillic і
@example('{"reasoning":"x","actions":[{"action":"done","answer":"ok"}],"reasoning":"twice"}')
def test_any_reply_parses_to_a_decision_or_a_clear_error(text: str) -> None:
    decision = parse_reply(text)
    if decision is not None:
        assert isinstance(decision, Decision) and 1 <= len(decision.actions) <= 8


@FUZZ
@given(decisions, st.sampled_from(WRAPS))
def test_every_valid_decision_survives_the_reply_parser(decision: Decision, wrap: str) -> None:
    text = wrap.replace("{}", decision.model_dump_json(), 1)
    parsed = parse_reply(text)
    assert parsed == decision


@FUZZ
@given(json_values)
def test_scripted_planner_refuses_what_the_schema_refuses(value: Any) -> None:
    """The test model and the real one validate a decision alike."""
    try:
        ScriptedPlanner([value])
    except ValidationError:
        return
    Decision.model_validate(value)


# --- the policy gate on any action -------------------------------------------------------------------

ALLOWED = ("shop.test", "*.bank.test")
PASSWORD = "s3cret-pass-phrase"
CARD = "4242424242424242"
PLACEHOLDERS = ["{{secret:login}}", "{{secret:visa.number}}", "{{secret:visa.cvc}}", "{{secret:nope}}",
                "{{secret:visa.bogus}}", "{{secret:", "}}", "{{secret:LOGIN}}", "{{ secret:login }}"]


def _el(index: int, role: str, name: str, *, tag: str = "", frame: str = "", sensitive: bool = False,
        **attrs: str) -> Element:
    tag = tag or {"link": "a", "button": "button", "textbox": "input"}.get(role, "div")
    return Element(index=index, role=role, tag=tag, name=name, frame=frame, sensitive=sensitive,
                   attributes={k.replace("_", "-"): v for k, v in attrs.items()})


PAY_FRAME = "https://pay.bank.test/card?intent=1"
PAGE = Observation(url="https://shop.test/checkout", title="Checkout", elements=[
    _el(0, "link", "Home", href="https://shop.test/"),
    _el(1, "link", "Sign in", href="http://shop.test@evil.test/"),
    _el(2, "link", "Deals", href="https://xn--shp-ted.test/"),
    _el(3, "link", "Run", href="javascript:void(0)"),
    _el(4, "textbox", "Search", type="search"),
    _el(5, "textbox", "Password", type="password", sensitive=True),
    _el(6, "textbox", "Card number", autocomplete="cc-number", sensitive=True),
    _el(7, "button", "Pay $19.99"),
    _el(8, "textbox", "Card number", frame=PAY_FRAME, autocomplete="cc-number", sensitive=True),
    _el(9, "button", "Pay $19.99", frame=PAY_FRAME),
    _el(10, "combobox", "Country", tag="select"),
    _el(11, "button", "Delete my account"),
], text="url: https://shop.test/checkout\ntitle: Checkout\nOrder total: $19.99\n1 × Cable $19.99")


@pytest.fixture
def gate(tmp_path: Path) -> PolicyGate:
    vault = Vault()
    vault.add_password("login", PASSWORD, origins=["https://shop.test"])
    vault.add_card("visa", number=CARD, exp_month=1, exp_year=2031, cvc="321", origins=["https://pay.bank.test"])
    policy = Policy(allow=tuple(pattern(p) for p in ALLOWED), deny=(pattern("*.evil.test"),), allow_only=True)
    return PolicyGate(policy, vault=vault, audit=AuditLog(tmp_path / "audit.db", run_id="fuzz"),
                      interactive=True)


def check(gate: PolicyGate, action: Any) -> Verdict:
    verdict = asyncio.run(gate.check(action, PAGE))
    assert isinstance(verdict, Verdict) and verdict.decision in ("allow", "ask", "deny")
    return verdict


LABEL = st.text(alphabet=string.ascii_lowercase + string.digits + "-" + "аоеіѕ" + "ＳＨＯＰｓｈｏｐ",
                min_size=1, max_size=12)
hosts = st.one_of(
    st.lists(LABEL, min_size=1, max_size=4).map(".".join),
    st.lists(LABEL, min_size=1, max_size=3).map(lambda ls: ".".join([*ls, "test"])),
    st.sampled_from(["shop.test", "SHOP.TEST", "shop.test.", "shop.test.evil.test", "sh0p.test", "shоp.test",
                     "xn--shp-ted.test", "bank.test", "www.bank.test", "evilbank.test", "bank.test.evil.test",
                     "shop.tests", "shop-test", "127.0.0.1", "0x7f.1", "[::1]", "evil.test", "localhost"]),
)


def _normalized(host: str) -> str | None:
    try:
        return host.lower().rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return None


def _may_be_allowed(host: str) -> bool:
    h = _normalized(host)
    return h is not None and (h == "shop.test" or h == "bank.test" or h.endswith(".bank.test"))


@FUZZ
@given(scheme=st.sampled_from(["http://", "https://", "HTTPS://", "", "//", "https:/", "https:\\\\"]),
       userinfo=st.sampled_from(["", "shop.test@", "user:pw@", "shop.test:443@", "a@b@"]),
       host=hosts, port=st.sampled_from(["", ":443", ":8080", ":0"]),
       rest=st.sampled_from(["", "/", "/@shop.test", "/x?next=https://shop.test/", "#@shop.test",
                             "?{{secret:login}}", "/" + PASSWORD]))
def test_navigation_outside_the_allow_list_is_never_allowed(gate: PolicyGate, scheme: str, userinfo: str,
                                                             host: str, port: str, rest: str) -> None:
    url = f"{scheme}{userinfo}{host}{port}{rest}"
    verdict = check(gate, Navigate(url=url))
    if userinfo or "{{secret:" in rest or PASSWORD in rest or not _may_be_allowed(host):
        assert verdict.decision != "allow", (url, verdict)


def _with_secrets(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    parts = st.lists(text | st.sampled_from([*PLACEHOLDERS, PASSWORD, CARD, "4242 4242 4242 4242"]),
                     max_size=5)
    return parts.map("".join)


@FUZZ
@given(action=st.one_of(
    actions,
    st.builds(Type, index=st.integers(-2, 14), text=_with_secrets(ODD_TEXT), clear=st.booleans(),
              submit=st.booleans()),
    st.builds(Navigate, url=_with_secrets(st.sampled_from(["https://shop.test/?q=", "evil.test/", "", "x"]))),
    st.builds(Press, keys=_with_secrets(st.sampled_from(["Enter", "Tab", "Control+A", " "]))),
    st.builds(Select, index=st.integers(0, 14), option=_with_secrets(ODD_TEXT)),
    st.builds(Upload, index=st.integers(0, 14), path=_with_secrets(ODD_TEXT)),
    st.builds(Click, index=st.integers(-2, 14)),
))
@example(action=Type(index=5, text="{{secret:login}}"))
@example(action=Type(index=8, text="{{secret:visa.number}}"))
@example(action=Press(keys="Enter"))
@example(action=Click(index=9))
@example(action=Navigate(url="x" * 20_000))
def test_the_gate_answers_every_action_and_never_allows_a_leak(gate: PolicyGate, action: Any) -> None:
    verdict = check(gate, action)
    texts = [v for k, v in action.model_dump().items() if isinstance(v, str) and k != "action"]
    if any(PASSWORD in t or CARD in t for t in texts) and not isinstance(action, Done):
        assert verdict.decision == "deny", (action, verdict)  # a stored value, written out
    if any("{{secret:" in t for t in texts) and not isinstance(action, Type | Done | AskUser):
        assert verdict.decision == "deny", (action, verdict)  # placeholders are filled in Type only
    refs = refs_in(action.text) if isinstance(action, Type) else []
    if refs and not (action.index == 5 and {(r.name, r.field) for r in refs} == {("login", "")}):
        # only the password, only into the password field of the site it is bound to; the
        # card's origin is the payment frame, and typing it there is a payment (asked)
        assert verdict.decision != "allow", (action, verdict)
    if isinstance(action, Click) and action.index in (1, 2):
        assert verdict.decision == "deny", verdict  # look-alike link targets
    if isinstance(action, Click) and action.index in (7, 9, 11):
        assert verdict.decision != "allow", verdict  # paying, deleting the account
    if isinstance(action, Press) and "enter" in action.keys.lower().split():
        assert verdict.decision != "allow", verdict  # Enter on a page with a payment form
