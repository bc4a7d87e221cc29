"""Recording a person's demonstration (real input events on the practice sites) and
learning a skill from it: parameters, choice rules, checks; no secret is kept."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from skills_helpers import Learned

from operator_agent.skills import commands
from operator_agent.skills.events import load_recording
from operator_agent.skills.format import load_skill
from operator_bench.testing.fake_openai import FakeOpenAIServer

SECRETS = ("demo1234", "4242 4242", "4242424242424242", "12 / 34")


def _by_action(learned: Learned, action: str) -> list:
    return [s for s in learned.skill.steps if s.action == action]


def test_shop_demonstration_becomes_a_skill(shop_learned: Learned) -> None:
    skill = shop_learned.skill
    assert skill.description == "Buy a {query} under ${max_price}"
    p = skill.parameters
    assert (p["query"].type, p["query"].example) == ("text", "usb-c cable")
    assert (p["max_price"].type, p["max_price"].example) == ("money", "15")  # from "under $15" in the task
    assert p["email_address"].example == "demo@example.com"
    for name, placeholder in (("password", "{{secret:password}}"), ("card_number", "{{secret:card.number}}"),
                              ("card_cvc", "{{secret:card.cvc}}")):
        assert p[name].type == "secret" and p[name].default == placeholder and p[name].example is None
    steps = skill.steps
    assert steps[0].optional and steps[0].target is not None and steps[0].target.context == "Cookie consent"
    search = steps[1]
    assert (search.action, search.text, search.submit) == ("type", "{query}", True)
    assert search.target is not None and search.target.role == "searchbox" and search.expect is not None
    assert search.expect.url == "/search"
    pick = next(s for s in steps if s.choose is not None)
    assert pick.choose is not None
    assert (pick.choose.pick, pick.choose.words, pick.choose.max_price, pick.choose.available) == (
        "first", "{query}", "{max_price}", True)  # "the first in-stock result under {max_price}"
    assert pick.expect is not None and pick.expect.url == "/product/*"
    add = next(s for s in steps if s.target is not None and s.target.name == "Add to cart")
    assert add.expect is not None and add.expect.text == "Added to cart"  # the dialog that opened
    cards = [s for s in steps if s.target is not None and s.target.frame == "/pay/*"]
    assert [s.text for s in cards] == ["{card_number}", "{card_expiry}", "{card_cvc}", "{name_on_card}",
                                      None]  # typed in the payment provider's cross-origin iframe
    pay = cards[-1]
    assert pay.target is not None and pay.target.name_like == "Pay *" and pay.target.frame_title
    assert pay.expect is not None and pay.expect.url == "/orders/*"
    assert pay.expect.text == "Thank you, your order has been placed."
    assert load_skill(shop_learned.skill_path) == skill  # the YAML file reads back the same


def test_recording_keeps_events_and_screenshots_but_no_secret(shop_learned: Learned) -> None:
    rec = load_recording(shop_learned.recording)
    assert rec.meta.task == "Buy a USB-C cable under $15"
    assert rec.meta.events == max(e.seq for e in rec.events)
    kinds = [e.type for e in rec.events]
    assert {"navigate", "click", "fill", "press"} <= set(kinds)
    secret_fills = [e for e in rec.events if e.type == "fill" and e.secret]
    assert sorted(e.secret for e in secret_fills) == ["card.cvc", "card.exp", "card.number", "password"]
    assert all(e.value is None for e in secret_fills)
    typed = {e.value for e in rec.events if e.type == "fill" and not e.secret}
    assert {"usb-c cable", "demo@example.com", "Alex Morgan"} <= typed
    in_frame = [e for e in rec.events if e.frame]
    assert in_frame and all(e.frame["path"] == "/pay/*" for e in in_frame)
    assert all(e.frame.get("title") == "Secure card payment" for e in in_frame)
    click = next(e for e in rec.events
                 if e.type == "click" and e.target and e.target["name"] == "Add to cart")
    t = click.target
    assert t["id"] == "add-to-cart" and t["role"] == "button" and t["css"] == "#add-to-cart"
    assert t["context"] == "Buy" and len(t["bbox"]) == 4
    assert click.crop and (rec.path / click.crop).is_file()  # the element, cut out
    actions = [e for e in rec.events if e.type in ("click", "fill", "press")]
    assert all(e.before and (rec.path / e.before).is_file() for e in actions)  # a screenshot before...
    after = [rec.after[e.seq].shot for e in actions if e.seq in rec.after]
    assert len(after) == len(actions) and all((rec.path / s).is_file() for s in after if s)  # ...and after
    for path in [*rec.path.glob("*.json*"), shop_learned.skill_path]:
        text = path.read_text()
        assert not any(s in text for s in SECRETS), path


def test_flight_demonstration_learns_autocomplete_dates_and_choices(flight_learned: Learned) -> None:
    skill = flight_learned.skill
    assert skill.description == "Book a flight from {from} to {to} on {departure_date}"
    p = skill.parameters
    # typed "New Y", picked "New York (JFK)"
    assert (p["from"].example, p["to"].example) == ("New York", "Lisbon")
    assert p["departure_date"].type == "date"
    assert [p[n].example for n in ("first_name", "last_name", "email_address")] == [
        "Ada", "Lovelace", "ada@example.com"]
    steps = skill.steps
    suggestion = next(s for s in steps if s.target is not None and s.target.name == "{from}")
    assert suggestion.target is not None and suggestion.target.match == "contains"
    assert suggestion.target.role == "option"
    month = next(s for s in steps if s.repeat)
    assert month.target is not None and month.target.name == "Next month"
    day = steps[steps.index(month) + 1]
    assert day.target is not None and day.target.name == "{departure_date:%A, %-d %B %Y}"
    nonstop = next(s for s in steps if s.action == "check")
    assert nonstop.checked and nonstop.target is not None and nonstop.target.name_like == "Nonstop from *"
    choices = [s.choose for s in steps if s.choose is not None]
    assert [(c.pick, c.like) for c in choices] == [("first", "Select"), ("first", "Seat *, aisle")]
    name_on_card = next(s for s in steps if s.target is not None and s.target.name == "Name on card")
    assert name_on_card.text == "{first_name} {last_name}"  # the same values typed again
    urls = [s.expect.url for s in steps if s.expect is not None and s.expect.url]
    assert urls == ["/results", "/trip/*/seats", "/trip/*/passengers", "/trip/*/payment", "/booking/*"]


async def test_learn_with_a_model_names_the_parameters(shop_learned: Learned, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    naming = {"description": "Buy a {item} costing at most ${budget} on Brightcart",
              "parameters": {"query": {"name": "item", "description": "what to buy"},
                             "max_price": {"name": "budget", "description": "the most to pay"},
                             "password": {"name": "bad name!"}}}
    out = tmp_path / "skills" / "shop.yaml"
    parser = argparse.ArgumentParser()
    commands.add_commands(parser.add_subparsers(dest="command"))
    with FakeOpenAIServer([naming], model="namer") as fake:
        monkeypatch.setenv("OPERATOR_MODEL", "namer")
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        args = parser.parse_args(["learn", str(shop_learned.recording), "--out", str(out)])
        assert await commands.cmd_learn(args) == 0
        asked = json.dumps(fake.requests)
    assert "usb-c cable" in asked and not any(s in asked for s in SECRETS)
    skill = load_skill(out)
    assert skill.description == "Buy a {item} costing at most ${budget} on Brightcart"
    assert list(skill.parameters)[:2] == ["item", "budget"] and "password" in skill.parameters
    assert skill.parameters["item"].description == "what to buy"
    pick = next(s for s in skill.steps if s.choose is not None)
    assert pick.choose is not None and (pick.choose.words, pick.choose.max_price) == ("{item}", "{budget}")
    assert skill.steps[1].text == "{item}"
