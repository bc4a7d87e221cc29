"""The policy file: documented defaults, strict loading, flag overrides."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from operator_agent.permissions import paths
from operator_agent.permissions.detectors.navigation import NavigationChecker
from operator_agent.permissions.detectors.sites import SensitiveSites
from operator_agent.permissions.hosts import pattern
from operator_agent.permissions.policy import (
    CATEGORIES,
    Policy,
    apply_overrides,
    default_text,
    shipped_sites,
    write_default,
)
from operator_agent.protocols import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_is_written_on_first_run_and_is_safe(tmp_path: Path) -> None:
    target = paths.policy_path()
    assert not target.exists()
    policy = Policy.load()
    assert target.exists() and target.read_text() == default_text()
    assert policy == Policy(source=str(target))
    assert policy.without_asking == frozenset()  # nothing consequential runs unattended
    assert set(policy.categories) == set(CATEGORIES)
    assert (policy.max_purchase, policy.max_daily, policy.currency) == (Decimal(100), Decimal(200), "USD")
    # The shipped file documents every key it sets.
    assert "without_asking" in default_text() and "allow_only" in default_text()
    # A second load reads the (possibly edited) file instead of rewriting it.
    target.write_text(default_text().replace("max_purchase = 100", "max_purchase = 30"))
    assert Policy.load().max_purchase == Decimal(30)


def test_write_default_never_overwrites(tmp_path: Path) -> None:
    path = write(tmp_path, "version = 1\n")
    with pytest.raises(FileExistsError):
        write_default(path)


def test_a_full_policy_loads(tmp_path: Path) -> None:
    path = write(tmp_path, """
version = 1
[domains]
allow = ["shop.test", "*.docs.test"]
deny = ["*.evil.test"]
ask = ["forum.test"]
allow_only = true
[sensitive]
categories = ["banking", "email"]
[sensitive.extra]
banking = ["*.mycu.test"]
[spending]
currency = "eur"
max_purchase = "49.99"
max_daily = 120
[payments]
frame_hosts = ["*.paylane.test"]
[approval]
without_asking = ["sensitive_site"]
""")
    p = Policy.load(path)
    assert p.allow == (pattern("shop.test"), pattern("*.docs.test"))
    assert p.allow_only and p.categories == ("banking", "email")
    assert p.currency == "EUR" and p.max_purchase == Decimal("49.99") and p.max_daily == Decimal(120)
    assert p.payment_frames == (pattern("*.paylane.test"),)
    assert p.without_asking == {"sensitive_site"}
    sites = SensitiveSites.from_policy(p)
    assert sites.category("online.mycu.test") == "banking"
    assert sites.category("secure.chase.com") == "banking"
    assert sites.category("mail.google.com") == "email"
    assert sites.category("www.coinbase.com") is None  # crypto is not enforced by this policy


BAD = [
    ("version = 1\n[domains\nallow = []", "not valid TOML"),
    ("version = 2", "version: expected 1"),
    ("[domain]\nallow = []", "domain: expected one of the sections"),
    ("[domains]\nalow = []", "[domains] alow: expected one of allow, deny, ask, allow_only"),
    ("[domains]\nallow = \"https://shop.test/\"", "[domains] allow: expected a host like"),
    ("[domains]\ndeny = [\"*\"]", "[domains] deny: expected a host like"),
    ("[domains]\nallow = [1]", "[domains] allow: expected hosts as strings"),
    ("[domains]\nallow_only = \"yes\"", "[domains] allow_only: expected true or false"),
    ("domains = 3", "[domains]: expected a table"),
    ("[sensitive]\ncategories = [\"banks\"]", "[sensitive] categories: expected names from banking"),
    ("[sensitive.extra]\nbanks = [\"x.test\"]", "[sensitive.extra] banks: expected a category"),
    ("[spending]\nmax_purchase = -5", "[spending] max_purchase: expected a non-negative amount"),
    ("[spending]\nmax_purchase = \"lots\"", "[spending] max_purchase: expected a non-negative amount"),
    ("[spending]\nmax_daily = true", "[spending] max_daily: expected an amount in USD"),
    ("[spending]\nmax_daily = \"50 EUR\"", "[spending] max_daily: expected an amount in USD"),
    ("[spending]\nmax_daily = nan", "[spending] max_daily: expected a non-negative amount"),
    ("[spending]\ncurrency = \"dollars\"", "[spending] currency: expected a currency code"),
    ("[approval]\nwithout_asking = [\"everything\"]", "[approval] without_asking: expected names from"),
    ("[approval]\nwithout_asking = \"payment\"\nextra = 1", "[approval] extra: expected one of"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_policy_files_give_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        Policy.load(path)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}: ")
    assert message in msg, msg
    assert err.value.__cause__ is None and err.value.__suppress_context__  # no traceback chain to show


def test_missing_unreadable_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such policy file"):
        Policy.load(tmp_path / "nope.toml")
    path = tmp_path / "bin.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not UTF-8"):
        Policy.load(path)
    with pytest.raises(ConfigError, match="cannot read"):
        Policy.load(tmp_path)  # a folder


def test_overrides_from_flags() -> None:
    base = Policy(deny=(pattern("evil.test"),))
    p = apply_overrides(base, {"allow_domains": ["shop.test"], "deny_domains": "a.test, *.b.test",
                               "max_purchase": "25", "max_daily": 40.5, "without_asking": ["payment"],
                               "allow_only": True, "ask_domains": None})
    assert p.allow == (pattern("shop.test"),)
    assert p.deny == (pattern("evil.test"), pattern("a.test"), pattern("*.b.test"))
    assert (p.max_purchase, p.max_daily) == (Decimal(25), Decimal("40.5"))
    assert p.without_asking == {"payment"} and p.allow_only
    assert base.allow == ()  # the original is untouched
    p = base.with_overrides({"currency": "gbp", "max_purchase": "£10"})
    assert (p.currency, p.max_purchase) == ("GBP", Decimal(10))


@pytest.mark.parametrize(("overrides", "message"), [
    ({"max_purchase": "ten"}, "--max-purchase: expected a non-negative amount"),
    ({"allow_domains": ["https://x.test/"]}, "--allow-domains: expected a host like"),
    ({"without_asking": ["all"]}, "--without-asking: expected names from"),
    ({"allow_only": "sure"}, "--allow-only: expected true or false"),
    ({"frobnicate": 1}, "--frobnicate: expected a known policy override"),
])
def test_bad_overrides(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        apply_overrides(Policy(), overrides)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_shipped_site_lists_parse() -> None:
    cats, frames = shipped_sites()
    assert set(cats) == set(CATEGORIES)
    assert all(cats.values()) and frames


# --- fuzzing ------------------------------------------------------------------------

_keys = st.sampled_from(["allow", "deny", "ask", "allow_only", "categories", "extra", "currency",
                         "max_purchase", "max_daily", "frame_hosts", "without_asking", "version", "x"])
_values = st.recursive(
    st.one_of(st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30),
              st.sampled_from(["*.evil.test", "evil.test", "xn--zz", "*", "*.", "a..b", "ｅｖｉｌ.test",
                               "USD", "1e9", "-1", "banking", "payment"])),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_keys, children, max_size=3),
    max_leaves=10)
_sections = st.sampled_from(["domains", "sensitive", "spending", "payments", "approval", "other"])


def _toml(data: dict) -> str:
    import json

    lines = []
    for section, table in data.items():
        lines.append(f"[{section}]")
        for key, value in table.items():
            lines.append(f"{key} = {json.dumps(value)}")  # JSON is close to TOML: both valid and not
    return "\n".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.dictionaries(_sections, st.dictionaries(_keys, _values, max_size=4), max_size=4))
def test_fuzz_policy_loader_gives_a_policy_or_a_clear_error(tmp_path: Path, data: dict) -> None:
    path = write(tmp_path, _toml(data))
    try:
        policy = Policy.load(path)
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(path))
        return
    # A policy that loaded and denies evil.test never lets it through.
    checker = NavigationChecker(policy, SensitiveSites.from_policy(policy))
    if any(p.matches("evil.test") for p in policy.deny):
        for url in ("https://evil.test/", "http://x@evil.test", "https://EVIL.TEST./", "evil.test"):
            assert checker.check_url(url).decision == "deny"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_fuzz_garbage_text(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    try:
        Policy.load(path)
    except ConfigError as exc:
        assert "\n" not in str(exc)


def test_oversized_and_deeply_nested_files(tmp_path: Path) -> None:
    path = write(tmp_path, "# " + "x" * 1_100_000)
    with pytest.raises(ConfigError, match="larger than"):
        Policy.load(path)
    path = write(tmp_path, "x = " + "[" * 5000 + "]" * 5000)
    with pytest.raises(ConfigError):
        Policy.load(path)


def test_default_file_is_valid_toml_with_comments() -> None:
    data = tomllib.loads(default_text())
    assert data["version"] == 1 and data["approval"]["without_asking"] == []
