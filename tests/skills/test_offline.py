"""The offline planner (no model): which shipped skill fits a task, and its parameters
filled from the task's words; parameter values as people write them; the skill file."""

from __future__ import annotations

import datetime as dt

import pytest

from operator_agent.planner.skills import choose_skill, describe_choice
from operator_agent.protocols import ConfigError
from operator_agent.skills.format import dump_skill, parse_skill
from operator_agent.skills.library import SkillLibrary
from operator_agent.skills.templates import fill, generalize, glob_match, path_pattern
from operator_agent.skills.values import find_date, parse_assignments, parse_money, resolve

TODAY = dt.date(2026, 11, 21)


def test_the_main_job_picks_the_shop_skill_and_fills_it(shipped: SkillLibrary) -> None:
    choice = choose_skill("buy a USB-C cable under $15", shipped, today=TODAY)
    assert choice.skill.name == "buy-usb-cable" and choice.score == 1.0  # reads like its description
    f = choice.filled
    assert (f["query"].value, f["query"].source) == ("USB-C cable", "the task")
    assert (f["max_price"].value, f["max_price"].source) == ("15", "the task")
    assert (f["email_address"].value, f["email_address"].source) == ("demo@example.com", "recorded example")
    assert (f["card_number"].value, f["card_number"].source) == (
        "{{secret:card.number}}", "vault placeholder")
    lines = describe_choice(choice)
    assert lines[0].startswith("Using the skill buy-usb-cable") and "  max_price = 15  (the task)" in lines


def test_other_wordings_still_find_the_skill_and_its_values(shipped: SkillLibrary) -> None:
    shop = choose_skill("Please order an HDMI cable for less than 20 dollars", shipped, today=TODAY)
    assert shop.skill.name == "buy-usb-cable"
    assert (shop.filled["query"].value, shop.filled["max_price"].value) == ("HDMI cable", "20")
    shop = choose_skill("buy an HDMI cable under $20", shipped, today=TODAY)
    assert shop.score == 1.0 and shop.filled["query"].value == "HDMI cable"  # "an", not "a" + "n HDMI"
    fly = choose_skill("fly me from Berlin to Rome next friday", shipped, today=TODAY)
    assert fly.skill.name == "book-flight"
    assert (fly.filled["to"].value, fly.filled["departure_date"].value) == ("Rome", "2026-11-27")
    flight = choose_skill("book me a flight from Boston to Madrid on the 3rd", shipped, today=TODAY)
    assert flight.skill.name == "book-flight"
    f = flight.filled
    assert (f["from"].value, f["to"].value, f["departure_date"].value) == ("Boston", "Madrid", "2026-12-03")
    assert f["first_name"].source == "recorded example"


def test_nothing_fits_says_so_lists_skills_and_how_to_add_a_model(shipped: SkillLibrary) -> None:
    for task in ("find the cheapest USB-C cable and tell me its price",  # finding is not buying
                 "book a table for two at a restaurant"):  # not a flight
        with pytest.raises(ConfigError):
            choose_skill(task, shipped, today=TODAY)
    with pytest.raises(ConfigError) as err:
        choose_skill("water the plants on the balcony", shipped, today=TODAY)
    text = str(err.value)
    assert "no taught skill fits" in text and "buy-usb-cable" in text and "book-flight" in text
    assert "OPERATOR_MODEL" in text and "\n" not in text


def test_values_as_people_write_them(shipped: SkillLibrary) -> None:
    assert find_date("on 14 August", TODAY) == (dt.date(2027, 8, 14), "14 August") or find_date(
        "on 14 August", TODAY)[0] == dt.date(2027, 8, 14)
    assert find_date("2026-12-24", TODAY)[0] == dt.date(2026, 12, 24)  # type: ignore[index]
    assert find_date("Dec 24, 2026", TODAY)[0] == dt.date(2026, 12, 24)  # type: ignore[index]
    assert find_date("tomorrow", TODAY)[0] == dt.date(2026, 11, 22)  # type: ignore[index]
    assert find_date("next friday", TODAY)[0] == dt.date(2026, 11, 27)  # type: ignore[index]
    assert find_date("the 3rd", TODAY)[0] == dt.date(2026, 12, 3)  # type: ignore[index]
    assert parse_money("under $1,250.50") == "1250.50" and parse_money("15 dollars") == "15"
    assert parse_assignments(["query=usb c", "max_price=$9"]) == {"query": "usb c", "max_price": "$9"}
    skill = shipped.get("book-flight").skill
    with pytest.raises(ConfigError, match="has no parameter colour"):
        resolve(skill, {"colour": "red"})
    with pytest.raises(ConfigError, match="is not a date"):
        resolve(skill, {"departure_date": "someday"})
    late = dt.date.fromisoformat(skill.parameters["departure_date"].example or "") + dt.timedelta(days=1)
    with pytest.raises(ConfigError, match=r"needs departure_date \(the recorded .* is past\)"):
        resolve(skill, {}, today=late)
    shop = shipped.get("buy-usb-cable").skill
    assert resolve(shop, {"max_price": "$9.50"})["max_price"] == "9.50"


def test_templates_patterns_and_the_file_round_trip(shipped: SkillLibrary) -> None:
    assert fill("{d:%A, %-d %B %Y} {{secret:x}}", {"d": "2027-01-09", "x": "no"}) == (
        "Saturday, 9 January 2027 {{secret:x}}")  # a secret placeholder is not a slot
    assert generalize("Pay $812.00") == "Pay *" and generalize("Seat 12C, aisle") == "Seat *, aisle"
    assert generalize("Add to cart") is None
    assert glob_match("Nonstop from *", "Nonstop from $425.00") and not glob_match("Nonstop from *", "1 stop")
    assert path_pattern("http://h/trip/t_QKCnTIqd-mNX/seats") == "/trip/*/seats"
    assert path_pattern("http://h/orders/BC-49645798?placed=1") == "/orders/*"
    assert path_pattern("http://h/booking/ECEXJN?new=1") == "/booking/*"  # a reference without digits
    assert path_pattern("http://h/checkout/payment") == "/checkout/payment"
    for entry in shipped.entries():
        assert parse_skill(dump_skill(entry.skill)) == entry.skill
        assert entry.path.read_text() == dump_skill(entry.skill)  # committed as the code writes it
    with pytest.raises(ConfigError, match="not a valid skill"):
        parse_skill("name: x\nsteps: [{id: 1}]\n")
