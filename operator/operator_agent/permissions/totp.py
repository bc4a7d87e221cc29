"""One-time codes from a TOTP seed (RFC 6238 over RFC 4226 HOTP), stdlib only."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import time
from collections.abc import Callable

ALGORITHMS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


def decode_seed(seed: str) -> bytes:
    """A base32 seed as authenticator apps show it (spaces, lower case, no padding
    allowed). Raises ValueError."""
    text = "".join(seed.split()).upper().rstrip("=")
    try:
        key = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a TOTP seed must be base32 (letters A-Z and digits 2-7)") from exc
    if not key:
        raise ValueError("the TOTP seed is empty")
    return key


def hotp(key: bytes, counter: int, *, digits: int = 6, algorithm: str = "SHA1") -> str:
    mac = hmac.new(key, struct.pack(">Q", counter), ALGORITHMS[algorithm]).digest()
    offset = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10 ** digits).zfill(digits)


def totp(key: bytes, *, at: float | None = None, period: int = 30, digits: int = 6,
         algorithm: str = "SHA1", clock: Callable[[], float] = time.time) -> str:
    now = clock() if at is None else at
    return hotp(key, int(now // period), digits=digits, algorithm=algorithm)
