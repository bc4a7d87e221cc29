"""The vault: card details, passwords and TOTP seeds, each bound to the origins
where it may be typed.

The model only sees placeholders (see placeholders.py) and writes them into Type
actions; the executor calls `resolve(text, origin)` with the origin of the frame
it is about to type into, and gets the values only when every referenced secret
is bound to that origin. Values never go back to the model, a trace or a log.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from . import paths
from .hosts import URLError, parse
from .placeholders import NAME, PLACEHOLDER, Ref, placeholder, refs_in
from .totp import ALGORITHMS, decode_seed, totp
from .vault_store import (
    BACKEND_ENV,
    KEY_ENV,
    KeyringStore,
    MemoryStore,
    VaultStore,
    open_store,
    usable_keyring,
)

Kind = Literal["password", "card", "totp"]
CARD_FIELDS = ("number", "exp", "exp_month", "exp_year", "cvc", "holder")
_MAIN = {"password": "value", "card": "number", "totp": "totp"}


class VaultError(Exception):
    """A placeholder that cannot be filled here; the message is safe to show the model."""


class UnknownSecret(VaultError):
    pass


class SecretNotAllowed(VaultError):
    """The secret exists but is not bound to the origin it was to be typed on."""


@dataclass(frozen=True)
class Secret:
    name: str
    kind: Kind
    fields: Mapping[str, str]
    origins: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class PlaceholderInfo:
    placeholder: str
    description: str  # what it is and where it may be typed; never a value


DESKTOP = "desktop:"  # a binding to desktop windows by title: "desktop:KeePassXC*"


def canonical_origin(url: str) -> str:
    """`https://Shop.Example/path` -> `https://shop.example:443`; `desktop:TITLE-PATTERN`
    stays as it is (a window-title glob). Raises ValueError."""
    if url.startswith(DESKTOP) and not url.startswith("desktop://"):
        if not url[len(DESKTOP):].strip():
            raise ValueError("a desktop binding needs a window title pattern, e.g. desktop:KeePassXC*")
        return url
    try:
        parsed = parse(url)
    except URLError as exc:
        raise ValueError(f"not an origin: {url[:80]!r} ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"not an http(s) origin: {url[:80]!r}")
    return parsed.origin


def _window_title(url: str) -> str:
    parts = url.split("/", 3)
    return unquote(parts[3]) if len(parts) == 4 else ""


def _bound(origins: tuple[str, ...], origin: str, where: str) -> bool:
    if origin.startswith("desktop://"):  # the target window's title against title globs
        return bool(where) and any(o.startswith(DESKTOP) and not o.startswith("desktop://")
                                   and fnmatchcase(where, o[len(DESKTOP):]) for o in origins)
    return bool(where) and where in origins


@dataclass
class Vault:
    store: VaultStore = field(default_factory=MemoryStore)
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self._secrets: dict[str, Secret] = {}
        for name, rec in self.store.load().items():
            self._secrets[name] = Secret(name=name, kind=rec["kind"], fields=dict(rec["fields"]),
                                         origins=tuple(rec["origins"]),
                                         description=rec.get("description", ""))

    @classmethod
    def open(cls, path: Path | str | None = None, *, passphrase: str | None = None,
             backend: str = "auto", clock: Callable[[], float] = time.time) -> Vault:
        """The person's vault (see vault_store.open_store). ConfigError when it cannot be opened."""
        return cls(store=open_store(path, passphrase=passphrase, backend=backend), clock=clock)

    @classmethod
    def open_if_set_up(cls, path: Path | str | None = None) -> Vault | None:
        """The person's vault if they have one (a vault file, OPERATOR_VAULT_KEY, or a
        usable OS keyring); None when nothing is set up. ConfigError when a vault
        file exists but cannot be opened (no key, wrong key)."""
        file_path = Path(path).expanduser() if path is not None else paths.vault_path()
        if file_path.exists() or os.environ.get(KEY_ENV) or os.environ.get(BACKEND_ENV):
            return cls.open(file_path)
        kr = usable_keyring()
        return cls(store=KeyringStore(kr)) if kr is not None else None

    # --- adding -----------------------------------------------------------------

    def add_password(self, name: str, value: str, *, origins: Iterable[str], description: str = "") -> None:
        if not value:
            raise ValueError("the password is empty")
        self._put(name, "password", {"value": value}, origins, description)

    def add_card(self, name: str, *, number: str, exp_month: int | str, exp_year: int | str, cvc: str,
                 holder: str = "", origins: Iterable[str], description: str = "") -> None:
        digits = re.sub(r"[\s-]", "", number)
        if not re.fullmatch(r"\d{12,19}", digits):
            raise ValueError("a card number has 12 to 19 digits")
        month, year = int(exp_month), int(exp_year)
        year = year + 2000 if year < 100 else year
        if not 1 <= month <= 12 or not 2000 <= year <= 2199:
            raise ValueError("the expiry month must be 1-12 and the year like 2030")
        if not re.fullmatch(r"\d{3,4}", cvc):
            raise ValueError("a card security code (CVC) has 3 or 4 digits")
        fields = {"number": digits, "exp": f"{month:02d}/{year % 100:02d}", "exp_month": f"{month:02d}",
                  "exp_year": str(year), "cvc": cvc, "holder": holder}
        self._put(name, "card", fields, origins, description)

    def add_totp(self, name: str, seed: str, *, origins: Iterable[str], digits: int = 6, period: int = 30,
                 algorithm: str = "SHA1", description: str = "") -> None:
        decode_seed(seed)  # fails now, not when the code is needed
        if algorithm not in ALGORITHMS or digits not in (6, 7, 8) or not 1 <= period <= 300:
            raise ValueError("TOTP: algorithm SHA1/SHA256/SHA512, 6-8 digits, period 1-300 s")
        fields = {"seed": seed, "digits": str(digits), "period": str(period), "algorithm": algorithm}
        self._put(name, "totp", fields, origins, description)

    def remove(self, name: str) -> None:
        if self._secrets.pop(name, None) is not None:
            self._save()

    def _put(self, name: str, kind: Kind, fields: dict[str, str], origins: Iterable[str],
             description: str) -> None:
        if not NAME.fullmatch(name):
            raise ValueError("a secret name is 1-64 characters of a-z, 0-9, '_' and '-'")
        bound = tuple(dict.fromkeys(canonical_origin(o) for o in origins))
        if not bound:
            raise ValueError("a secret must be bound to at least one origin, e.g. https://shop.example")
        self._secrets[name] = Secret(name=name, kind=kind, fields=fields, origins=bound,
                                     description=description)
        self._save()

    def _save(self) -> None:
        self.store.save({s.name: {"kind": s.kind, "fields": dict(s.fields), "origins": list(s.origins),
                                  "description": s.description} for s in self._secrets.values()})

    # --- what the model may know ----------------------------------------------------

    def names(self) -> list[str]:
        return sorted(self._secrets)

    def origins(self, name: str) -> tuple[str, ...]:
        secret = self._secrets.get(name)
        return secret.origins if secret else ()

    def placeholders(self) -> list[PlaceholderInfo]:
        """Names and descriptions for the prompt: no values, not even partial ones."""
        out = []
        for s in sorted(self._secrets.values(), key=lambda s: s.name):
            where = ", ".join(s.origins)
            about = f" ({s.description})" if s.description else ""
            if s.kind == "password":
                out.append(PlaceholderInfo(placeholder(s.name), f"password{about}; only on {where}"))
            elif s.kind == "totp":
                out.append(PlaceholderInfo(placeholder(s.name, "totp"),
                                           f"current one-time code{about}; only on {where}"))
            else:
                for f in CARD_FIELDS:
                    if f == "holder" and not s.fields.get("holder"):
                        continue
                    what = {"number": "card number", "exp": "expiry MM/YY", "exp_month": "expiry month MM",
                            "exp_year": "expiry year YYYY", "cvc": "security code",
                            "holder": "name on card"}[f]
                    out.append(PlaceholderInfo(placeholder(s.name, f), f"{what}{about}; only on {where}"))
        return out

    def prompt_text(self) -> str:
        """The placeholder list as lines for the system prompt."""
        return "\n".join(f"{p.placeholder}: {p.description}" for p in self.placeholders())

    # --- filling placeholders -----------------------------------------------------------

    def check(self, text: str, origin: str) -> list[Ref]:
        """The placeholders in `text`, each known and bound to `origin` (a frame's origin,
        or a desktop window as desktop://DISPLAY/TITLE); raises VaultError."""
        try:
            where = _window_title(origin) if origin.startswith("desktop://") else canonical_origin(origin)
        except ValueError:
            where = ""
        refs = refs_in(text)
        for ref in refs:
            secret = self._secrets.get(ref.name)
            if secret is None:
                raise UnknownSecret(f"there is no secret named {ref.name!r}; "
                                    f"known: {', '.join(self.names()) or 'none'}")
            if not self._has_field(secret, ref.field):
                raise UnknownSecret(f"secret {ref.name!r} has no field {ref.field!r}")
            if not _bound(secret.origins, origin, where):
                raise SecretNotAllowed(f"secret {ref.name!r} may only be typed on "
                                       f"{', '.join(secret.origins)}, not on {where or origin[:80]}")
        return refs

    def resolve(self, text: str, origin: str) -> str:
        """`text` with every placeholder replaced by its value, when all are allowed on
        `origin` (the origin of the frame being typed into). Raises VaultError."""
        self.check(text, origin)
        return PLACEHOLDER.sub(lambda m: self._value(self._secrets[m.group(1)], m.group(2) or ""), text)

    def _has_field(self, secret: Secret, name: str) -> bool:
        if secret.kind == "card":
            return name in ("", *CARD_FIELDS)
        return name in ("", _MAIN[secret.kind])

    def _value(self, secret: Secret, name: str) -> str:
        if secret.kind == "totp":
            f = secret.fields
            return totp(decode_seed(f["seed"]), period=int(f["period"]), digits=int(f["digits"]),
                        algorithm=f["algorithm"], clock=self.clock)
        return secret.fields[name or _MAIN[secret.kind]]

    # --- for the redactor and the gate ------------------------------------------------------

    def values(self) -> list[str]:
        """Every stored value worth keeping out of traces and logs (with the usual
        spellings of a card number)."""
        out: list[str] = []
        for s in self._secrets.values():
            f = s.fields
            if s.kind == "password":
                out.append(f["value"])
            elif s.kind == "totp":
                out.append(f["seed"])
            else:
                num = f["number"]
                out += [num, " ".join(num[i:i + 4] for i in range(0, len(num), 4)),
                        "-".join(num[i:i + 4] for i in range(0, len(num), 4)), f["cvc"], f["exp"]]
        return [v for v in dict.fromkeys(out) if v]

    def literal_values(self) -> list[tuple[str, str]]:
        """(secret name, value) pairs the model must never type itself."""
        out = []
        for s in self._secrets.values():
            f = s.fields
            if s.kind == "password":
                out.append((s.name, f["value"]))
            elif s.kind == "totp":
                out.append((s.name, f["seed"]))
            else:
                out += [(s.name, f["number"]), (s.name, f["cvc"])]
        return out

    def describe(self) -> dict[str, Any]:
        """What is stored, without values (for a `vault list` command)."""
        return {s.name: {"kind": s.kind, "origins": list(s.origins), "description": s.description}
                for s in self._secrets.values()}
