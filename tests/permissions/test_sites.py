"""The sensitive-site detector: categories and domain lists."""

from __future__ import annotations

import pytest

from operator_agent.permissions.detectors.navigation import NavigationChecker
from operator_agent.permissions.detectors.sites import SensitiveSites
from operator_agent.permissions.hosts import pattern
from operator_agent.permissions.policy import Policy


@pytest.mark.parametrize(("host", "category"), [
    ("www.chase.com", "banking"), ("chase.com", "banking"), ("www.paypal.com", "payments"),
    ("mail.google.com", "email"), ("www.nhs.uk", "health"), ("www.irs.gov", "government"),
    ("tax.service.gov.uk", "government"), ("www.coinbase.com", "crypto"), ("app.metamask.io", "crypto"),
    ("www.google.com", None), ("chase.com.evil.test", None), ("notchase.com", None), ("", None),
])
def test_shipped_categories(host: str, category: str | None) -> None:
    assert SensitiveSites.from_policy(Policy()).category(host) == category


def test_the_most_specific_entry_wins() -> None:
    sites = SensitiveSites({"email": (pattern("mail.example.test"),), "health": (pattern("*.example.test"),)})
    m = sites.match("mail.example.test")
    assert m is not None and (m.category, str(m.pattern)) == ("email", "mail.example.test")
    assert sites.category("www.example.test") == "health"


def test_policy_chooses_and_extends_categories() -> None:
    p = Policy(categories=("banking",), sensitive_extra=(("banking", (pattern("*.mycu.test"),)),
                                                         ("email", (pattern("mail.test"),))))
    sites = SensitiveSites.from_policy(p)
    assert sites.category("online.mycu.test") == "banking"
    assert sites.category("mail.test") is None  # email is not enforced by this policy
    assert sites.category("mail.google.com") is None


def test_look_alikes_of_sensitive_sites_are_denied() -> None:
    checker = NavigationChecker(Policy(), SensitiveSites.from_policy(Policy()))
    for url in ("https://www.chаse.com/", "https://secure.xn--chse-63d.com/", "https://paypa1.com/",
                "https://rnail.google.com/"):
        result = checker.check_url(url)
        assert result.decision == "deny" and "looks like" in result.reason, url
