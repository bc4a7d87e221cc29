"""The placeholder format: how the model refers to a secret it never sees.

    {{secret:NAME}}          the secret's main value (a password, a card number)
    {{secret:NAME.FIELD}}    one field of it (card: number, exp, exp_month, exp_year,
                             cvc, holder)
    {{secret:NAME.totp}}     the current one-time code of a TOTP secret

NAME and FIELD are lower-case letters, digits, "_" and "-". The executor
substitutes values (Vault.resolve) only on the origins a secret is bound to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\{\{secret:([a-z0-9_\-]{1,64})(?:\.([a-z0-9_]{1,32}))?\}\}")
NAME = re.compile(r"[a-z0-9_\-]{1,64}")


@dataclass(frozen=True)
class Ref:
    name: str
    field: str = ""  # "" for the main value

    def __str__(self) -> str:
        return placeholder(self.name, self.field)


def placeholder(name: str, field: str = "") -> str:
    return "{{secret:" + name + (f".{field}" if field else "") + "}}"


def refs_in(text: str) -> list[Ref]:
    return [Ref(m.group(1), m.group(2) or "") for m in PLACEHOLDER.finditer(text)]


def has_placeholder(text: str) -> bool:
    return "{{secret:" in text
