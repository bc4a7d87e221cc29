"""The person's permission policy: a TOML file, plus overrides from flags.

A policy only ever comes from the person (their file, their flags), never from a
page. Anything wrong in it is a ConfigError of one line naming the file, the key
and what is expected: a typo must never quietly widen what the agent may do.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..private_files import create_private, private_dir
from ..protocols import ConfigError
from . import paths
from .hosts import DomainPattern, pattern
from .money import CODES, parse_amount

log = logging.getLogger(__name__)

CATEGORIES = ("banking", "payments", "email", "health", "government", "crypto")
KINDS = ("payment", "sensitive_site", "ask_first", "account_change", "deletion", "message")
MAX_POLICY_BYTES = 1_000_000

_SCHEMA: dict[str, tuple[str, ...]] = {
    "domains": ("allow", "deny", "ask", "allow_only"),
    "sensitive": ("categories", "extra"),
    "spending": ("currency", "max_purchase", "max_daily"),
    "payments": ("frame_hosts",),
    "approval": ("without_asking",),
    "desktop": ("sensitive_windows", "allow_apps", "deny_apps"),
    "uploads": ("allow_folders",),
}
# Windows whose titles look like these ask before the agent acts on them.
DEFAULT_SENSITIVE_WINDOWS = ("*Bank*", "*Password*", "*KeePass*", "*Bitwarden*", "*1Password*", "*Wallet*")


@dataclass(frozen=True, kw_only=True)
class Policy:
    allow: tuple[DomainPattern, ...] = ()
    deny: tuple[DomainPattern, ...] = ()
    ask: tuple[DomainPattern, ...] = ()
    allow_only: bool = False
    categories: tuple[str, ...] = CATEGORIES  # sensitive categories that are enforced
    sensitive_extra: tuple[tuple[str, tuple[DomainPattern, ...]], ...] = ()
    payment_frames: tuple[DomainPattern, ...] = ()  # in addition to the shipped list
    currency: str = "USD"
    max_purchase: Decimal = Decimal(100)
    max_daily: Decimal = Decimal(200)
    without_asking: frozenset[str] = field(default_factory=frozenset)
    sensitive_windows: tuple[str, ...] = DEFAULT_SENSITIVE_WINDOWS  # title globs, desktop mode
    upload_folders: tuple[Path, ...] = ()  # files in these may be uploaded without asking
    # Programs open_app may start without asking / never (commands, entry IDs or full paths).
    allow_apps: tuple[str, ...] = ()
    deny_apps: tuple[str, ...] = ()
    source: str = "<default>"

    # --- loading -----------------------------------------------------------------

    @classmethod
    def default(cls) -> Policy:
        """The shipped default policy (the documented file written on first run)."""
        return _parse(default_text(), "<default policy>")

    @classmethod
    def load(cls, path: Path | str | None = None) -> Policy:
        """The policy at `path`; with None, the user's policy file (OPERATOR_POLICY or
        the config folder), written with the documented defaults on first run."""
        if path is None:
            target = paths.policy_path()
            if not target.exists():
                try:
                    write_default(target)
                except OSError as exc:  # a read-only home still gets the safe defaults
                    log.warning("could not write the default policy to %s: %s", target, exc)
                    return cls.default()
        else:
            target = Path(path).expanduser()
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"{target}: no such policy file") from None
        except OSError as exc:
            raise ConfigError(f"{target}: cannot read the policy file ({exc.strerror})") from None
        if len(data) > MAX_POLICY_BYTES:
            raise ConfigError(f"{target}: policy file larger than {MAX_POLICY_BYTES} bytes")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{target}: the policy file is not UTF-8 text") from None
        return _parse(text, str(target))

    def with_overrides(self, overrides: Mapping[str, Any]) -> Policy:
        return apply_overrides(self, overrides)


def default_text() -> str:
    return resources.files(__package__).joinpath("default_policy.toml").read_text(encoding="utf-8")


def write_default(path: Path | str) -> Path:
    """Write the documented default policy to `path` (folders created). Never overwrites."""
    target = Path(path).expanduser()
    private_dir(target.parent, tighten=False)
    with open(create_private(target), "w", encoding="utf-8") as fh:  # what the person allows is theirs
        fh.write(default_text())
    return target


@lru_cache(maxsize=1)
def shipped_sites() -> tuple[dict[str, tuple[DomainPattern, ...]], tuple[DomainPattern, ...]]:
    """The packaged sensitive-site lists: (category -> patterns, payment frame hosts)."""
    text = resources.files(__package__).joinpath("sensitive_sites.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    cats = {name: tuple(pattern(p) for p in hosts) for name, hosts in data["categories"].items()}
    frames = tuple(pattern(p) for p in data["payment_frames"]["hosts"])
    return cats, frames


# --- parsing ------------------------------------------------------------------------


class _Bad(Exception):
    def __init__(self, key: str, expected: str, got: object = None, *, show: bool = True) -> None:
        shown = f", got {_show(got)}" if show else ""
        super().__init__(f"{key}: expected {expected}{shown}")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _parse(text: str, source: str) -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {_one_line(str(exc))}") from None
    except RecursionError:
        raise ConfigError(f"{source}: not valid TOML: nested too deeply") from None
    try:
        return _from_dict(data, source)
    except _Bad as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


def _from_dict(data: dict[str, Any], source: str) -> Policy:
    unknown = sorted(set(data) - set(_SCHEMA) - {"version"})
    if unknown:
        raise _Bad(unknown[0], "one of the sections " + ", ".join(f"[{s}]" for s in _SCHEMA)
                   + " (unknown key)", show=False)
    version = data.get("version", 1)
    if version != 1 or isinstance(version, bool):
        raise _Bad("version", "1", version)
    sections = {}
    for name, keys in _SCHEMA.items():
        section = data.get(name, {})
        if not isinstance(section, dict):
            raise _Bad(f"[{name}]", "a table", section)
        extra = sorted(set(section) - set(keys))
        if extra:
            raise _Bad(f"[{name}] {extra[0]}", "one of " + ", ".join(keys) + " (unknown key)", show=False)
        sections[name] = section
    dom, sens, spend = sections["domains"], sections["sensitive"], sections["spending"]
    currency = _currency("[spending] currency", spend.get("currency", "USD"))
    return Policy(
        allow=_patterns("[domains] allow", dom.get("allow", [])),
        deny=_patterns("[domains] deny", dom.get("deny", [])),
        ask=_patterns("[domains] ask", dom.get("ask", [])),
        allow_only=_bool("[domains] allow_only", dom.get("allow_only", False)),
        categories=_choices("[sensitive] categories", sens.get("categories", list(CATEGORIES)), CATEGORIES),
        sensitive_extra=_extra(sens.get("extra", {})),
        payment_frames=_patterns("[payments] frame_hosts", sections["payments"].get("frame_hosts", [])),
        currency=currency,
        max_purchase=_limit("[spending] max_purchase", spend.get("max_purchase", 100), currency),
        max_daily=_limit("[spending] max_daily", spend.get("max_daily", 200), currency),
        without_asking=frozenset(_choices("[approval] without_asking",
                                          sections["approval"].get("without_asking", []), KINDS)),
        sensitive_windows=_globs("[desktop] sensitive_windows", sections["desktop"].get(
            "sensitive_windows", list(DEFAULT_SENSITIVE_WINDOWS))),
        upload_folders=_folders("[uploads] allow_folders", sections["uploads"].get("allow_folders", [])),
        allow_apps=_apps("[desktop] allow_apps", sections["desktop"].get("allow_apps", [])),
        deny_apps=_apps("[desktop] deny_apps", sections["desktop"].get("deny_apps", [])),
        source=source,
    )


def _folders(key: str, value: object, *, relative_to: Path | None = None) -> tuple[Path, ...]:
    """Folders as absolute paths ("~" expanded). In a policy file a relative folder is
    refused (relative to what?); a flag's is taken from the current folder."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _Bad(key, 'a list of folders like ["~/Documents/to-share"]', value)
    out = []
    for item in value:
        folder = Path(item).expanduser()
        if not folder.is_absolute():
            if relative_to is None:
                raise _Bad(key, 'absolute folders like "~/Documents/to-share"', item)
            folder = relative_to / folder
        out.append(folder)
    return tuple(dict.fromkeys(out))


def _apps(key: str, value: object) -> tuple[str, ...]:
    """Program names ("mousepad", "org.xfce.mousepad") or absolute paths ("/usr/bin/mousepad",
    "~" expanded); a relative path would name whatever lies there at the time: refused."""
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _Bad(key, 'a list of programs like ["mousepad", "galculator"]', value)
    out = []
    for item in value:
        name = item.strip()
        if "/" in name or name.startswith("~"):
            path = Path(name).expanduser()
            if not path.is_absolute():
                raise _Bad(key, 'program names like "mousepad" or absolute paths like "/usr/bin/mousepad"',
                           item)
            name = str(path)
        out.append(name)
    return tuple(dict.fromkeys(out))


def _globs(key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _Bad(key, 'a list of window-title patterns like ["*Bank*"]', value)
    return tuple(value)


def _patterns(key: str, value: object) -> tuple[DomainPattern, ...]:
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    if not isinstance(value, list):
        raise _Bad(key, "a list of hosts like [\"shop.example\", \"*.bank.com\"]", value)
    out = []
    for item in value:
        if not isinstance(item, str):
            raise _Bad(key, "hosts as strings", item)
        try:
            out.append(pattern(item))
        except ValueError as exc:
            raise _Bad(key, str(exc).removeprefix("expected "), show=False) from None
    return tuple(out)


def _bool(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _Bad(key, "true or false", value)
    return value


def _choices(key: str, value: object, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Bad(key, "a list of names from " + ", ".join(allowed), value)
    for item in value:
        if item not in allowed:
            raise _Bad(key, "names from " + ", ".join(allowed), item)
    return tuple(dict.fromkeys(value))


def _extra(value: object) -> tuple[tuple[str, tuple[DomainPattern, ...]], ...]:
    if not isinstance(value, dict):
        raise _Bad("[sensitive.extra]", "a table of category = [hosts]", value)
    out = []
    for cat, hosts in value.items():
        if cat not in CATEGORIES:
            raise _Bad(f"[sensitive.extra] {cat}", "a category: " + ", ".join(CATEGORIES), show=False)
        out.append((cat, _patterns(f"[sensitive.extra] {cat}", hosts)))
    return tuple(out)


def _currency(key: str, value: object) -> str:
    if not isinstance(value, str) or value.upper() not in CODES:
        raise _Bad(key, "a currency code such as USD, EUR or GBP", value)
    return value.upper()


def _limit(key: str, value: object, currency: str) -> Decimal:
    if not isinstance(value, int | float | str) or isinstance(value, bool):
        raise _Bad(key, f"an amount in {currency} like 50 or \"50.00\"", value)
    try:
        money = parse_amount(value, currency)
    except (ValueError, ArithmeticError):
        raise _Bad(key, f"a non-negative amount in {currency} like 50 or \"50.00\"", value) from None
    if money.currency != currency:
        raise _Bad(key, f"an amount in {currency} (the [spending] currency)", value)
    return money.amount


# --- overrides from flags -------------------------------------------------------------

_LIST_FLAGS = {"allow_domains": "allow", "deny_domains": "deny", "ask_domains": "ask"}
_APP_FLAGS = ("allow_apps", "deny_apps")


def apply_overrides(policy: Policy, overrides: Mapping[str, Any]) -> Policy:
    """A copy of `policy` with the run's flags applied. Keys (None values are ignored):
    allow_domains / deny_domains / ask_domains / allow_uploads / allow_apps / deny_apps
    (added to the lists), allow_only, categories, currency, max_purchase, max_daily,
    without_asking (replace).
    Errors name the flag: `--max-purchase: expected ...`."""
    changes: dict[str, Any] = {}
    currency = policy.currency
    try:
        for key, value in overrides.items():
            if value is None:
                continue
            flag = "--" + key.replace("_", "-")
            if key in _LIST_FLAGS:
                attr = _LIST_FLAGS[key]
                changes[attr] = (*changes.get(attr, getattr(policy, attr)), *_patterns(flag, _listish(value)))
            elif key in _APP_FLAGS:
                changes[key] = tuple(dict.fromkeys((*changes.get(key, getattr(policy, key)),
                                                    *_apps(flag, _listish(value)))))
            elif key == "allow_uploads":
                changes["upload_folders"] = (*policy.upload_folders, *_folders(
                    flag, _listish(value), relative_to=Path.cwd()))
            elif key == "allow_only":
                changes["allow_only"] = _bool(flag, value)
            elif key == "categories":
                changes["categories"] = _choices(flag, _listish(value), CATEGORIES)
            elif key == "without_asking":
                changes["without_asking"] = frozenset(_choices(flag, _listish(value), KINDS))
            elif key == "currency":
                currency = changes["currency"] = _currency(flag, value)
            elif key not in ("max_purchase", "max_daily"):
                raise _Bad(flag, "a known policy override: " + ", ".join(
                    [*_LIST_FLAGS, "allow_uploads", *_APP_FLAGS, "allow_only", "categories", "without_asking",
                     "currency", "max_purchase", "max_daily"]), show=False)
        for key in ("max_purchase", "max_daily"):
            if overrides.get(key) is not None:
                changes[key] = _limit("--" + key.replace("_", "-"), overrides[key], currency)
    except _Bad as exc:
        raise ConfigError(str(exc)) from None
    return replace(policy, **changes)


def _listish(value: object) -> object:
    return list(value) if isinstance(value, tuple | set | frozenset) else value
