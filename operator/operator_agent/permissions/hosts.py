"""Where a URL really goes: its host parsed the way a browser parses it.

Python's urlsplit and a browser disagree on some inputs (`http://a.test\\@b.test/`
is host b.test to urlsplit but a.test to Chromium), and a permission check that
parses differently from the browser can be walked around. So the authority of
http(s) URLs is parsed here after the WHATWG URL rules: tabs and newlines
removed, backslashes as slashes, userinfo up to the last "@", the host
percent-decoded, IDNA-mapped, and numeric IPv4 forms (`0x7f.1`) normalized.
Anything this parser is unsure of is an error, and errors are denials.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

SPECIAL_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")
_TAB_NL = re.compile("[\t\n\r]")
# WHATWG forbidden domain code points (after percent-decoding), plus C0 and DEL.
_FORBIDDEN = set(" #%/:<>?@[\\]^|") | {chr(c) for c in range(0x20)} | {"\x7f"}
# IDNA2003 (stdlib) and browsers (UTS 46 non-transitional) map these differently.
_DEVIATIONS = {"\u00df", "\u03c2", "\u200c", "\u200d"}
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?")
MAX_URL = 8192


class URLError(ValueError):
    """The URL cannot be parsed safely; the message says why (one line)."""


@dataclass(frozen=True)
class ParsedURL:
    url: str  # cleaned as a browser would before parsing
    scheme: str  # lower case
    host: str = ""  # ASCII (punycode), lower case, no trailing dot; "" when none
    display_host: str = ""  # Unicode form, for look-alike checks and people
    port: int | None = None
    userinfo: bool = False  # the URL carried "user:pass@"

    @property
    def origin(self) -> str:
        """`https://shop.example:443`: scheme, host and explicit port."""
        if not self.host:
            return ""
        port = self.port or SPECIAL_PORTS.get(self.scheme)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{port}" if port else f"{self.scheme}://{host}"


def clean(url: str) -> str:
    """What a browser strips before parsing: outer C0/space, inner tabs and newlines."""
    return _TAB_NL.sub("", url.strip("".join(chr(c) for c in range(0x21))))


def scheme_of(url: str) -> str:
    m = _SCHEME.match(clean(url))
    return m.group(1).lower() if m else ""


def parse(url: str) -> ParsedURL:
    """Parse an absolute URL. Raises URLError for anything a browser would read
    differently from us (or not at all)."""
    if len(url) > MAX_URL:
        raise URLError(f"URL longer than {MAX_URL} characters")
    text = clean(url)
    m = _SCHEME.match(text)
    if not m:
        raise URLError("not an absolute URL")
    scheme = m.group(1).lower()
    if scheme not in SPECIAL_PORTS and scheme != "file":
        return ParsedURL(url=text, scheme=scheme)  # javascript:, data:, about:, mailto: ...
    rest = text[m.end():].lstrip("/\\")
    end = next((i for i, ch in enumerate(rest) if ch in "/\\?#"), len(rest))
    authority = rest[:end]
    userinfo = "@" in authority
    hostport = authority.rpartition("@")[2]
    if hostport.startswith("["):
        inner, bracket, after = hostport[1:].partition("]")
        if not bracket or (after and not after.startswith(":")):
            raise URLError("malformed IPv6 host")
        try:
            host = ipaddress.IPv6Address(inner).compressed
        except ValueError as exc:
            raise URLError("malformed IPv6 host") from exc
        port_text = after[1:]
        display = host
    else:
        raw_host, _, port_text = hostport.partition(":")
        host, display = normalize_host(raw_host)
    if not host and scheme != "file":
        raise URLError("no host")
    port = _port(port_text, scheme)
    return ParsedURL(url=text, scheme=scheme, host=host, display_host=display, port=port,
                     userinfo=userinfo)


def _port(text: str, scheme: str) -> int | None:
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 5 or int(text) > 65535:
        raise URLError(f"invalid port {text[:20]!r}")
    port = int(text)
    return None if port == SPECIAL_PORTS.get(scheme) else port


def normalize_host(raw: str) -> tuple[str, str]:
    """(ASCII host, Unicode host) for a host as written in a URL. Raises URLError."""
    try:
        decoded = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise URLError("host is not valid UTF-8 after percent-decoding") from exc
    if not decoded:
        return "", ""
    if any(ch in _FORBIDDEN for ch in decoded):
        raise URLError("host contains a character browsers refuse")
    if any(ch in _DEVIATIONS for ch in decoded):
        raise URLError("host contains a character browsers and IDNA2003 map differently")
    try:
        ascii_host = decoded.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise URLError("host is not a valid internationalized domain name") from exc
    if ascii_host.endswith("."):
        ascii_host = ascii_host[:-1]
    if len(ascii_host) > 253:
        raise URLError("host longer than 253 characters")
    ipv4 = _ipv4(ascii_host)
    if ipv4 is not None:
        return ipv4, ipv4
    labels = ascii_host.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        raise URLError("host has an empty or malformed label")
    try:
        display = ascii_host.encode("ascii").decode("idna").lower()
    except UnicodeError as exc:
        raise URLError("host has a malformed punycode label") from exc
    return ascii_host, display


def _ipv4(host: str) -> str | None:
    """WHATWG: a host whose last label is a number is an IPv4 address (in decimal,
    hex or octal parts); None when it is a domain. Raises URLError when invalid."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not parts or not _numeric(parts[-1]):
        return None
    if len(parts) > 4:
        raise URLError("malformed IPv4 host")
    nums = []
    for part in parts:
        if not _numeric(part):
            raise URLError("malformed IPv4 host")
        nums.append(_ipv4_number(part))
    if any(n > 255 for n in nums[:-1]) or nums[-1] >= 256 ** (5 - len(nums)):
        raise URLError("IPv4 host out of range")
    value = nums[-1]
    for i, n in enumerate(nums[:-1]):
        value += n * 256 ** (3 - i)
    return str(ipaddress.IPv4Address(value))


def _numeric(part: str) -> bool:
    if part.startswith(("0x", "0X")):
        return all(c in "0123456789abcdefABCDEF" for c in part[2:])
    return part.isascii() and part.isdigit()


def _ipv4_number(part: str) -> int:
    if part.startswith(("0x", "0X")):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        if any(c in "89" for c in part):
            raise URLError("malformed IPv4 host")
        return int(part, 8)
    return int(part)


# --- patterns -------------------------------------------------------------------


@dataclass(frozen=True)
class DomainPattern:
    """`shop.example` (that host only) or `*.bank.com` (bank.com and every subdomain)."""

    host: str  # ASCII
    wildcard: bool = False

    def matches(self, host: str) -> bool:
        return host == self.host or (self.wildcard and host.endswith("." + self.host))

    def __str__(self) -> str:
        return f"*.{self.host}" if self.wildcard else self.host


def pattern(text: str) -> DomainPattern:
    """Parse a policy entry. Raises ValueError saying what is expected."""
    raw = text.strip().lower()
    wildcard = raw.startswith("*.")
    body = raw[2:] if wildcard else raw
    bad = ValueError(f"expected a host like 'shop.example' or '*.bank.com', got {text[:80]!r}")
    if not body or any(c in body for c in "/:@*?#[] "):
        raise bad
    try:
        host, _ = normalize_host(body)
    except URLError as exc:
        raise bad from exc
    if not host:
        raise bad
    return DomainPattern(host, wildcard)


def match_any(patterns: tuple[DomainPattern, ...], host: str) -> DomainPattern | None:
    return next((p for p in patterns if p.matches(host)), None)


# --- look-alikes ----------------------------------------------------------------

# Letters that render like Latin ones (Cyrillic, Greek, Armenian, Latin small
# capitals...), and ASCII swaps used in phishing domains. Not all of Unicode's
# confusables.txt: enough for the scripts mixed into Latin domain names.
_CONFUSABLES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "һ": "h",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ɡ": "g", "ո": "n", "ս": "u", "օ": "o", "ց": "g",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ı": "i", "ȷ": "j", "ɑ": "a",
    "ʏ": "y", "ᴀ": "a", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ᴋ": "k", "ᴍ": "m", "ᴏ": "o", "ᴘ": "p",
    "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ᴢ": "z", "0": "o", "1": "l", "|": "l",
})
_MULTI = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_CONFUSABLE_SCRIPTS = {"CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE"}


def skeleton(unicode_host: str) -> str:
    """A form in which look-alike hosts become equal (pаypal.com, paypa1.com -> paypal.com)."""
    text = unicodedata.normalize("NFKD", unicode_host.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).translate(_CONFUSABLES)
    for seq, rep in _MULTI:
        text = text.replace(seq, rep)
    return text


def mixed_script(unicode_host: str) -> bool:
    """A label mixing Latin letters with a script that has Latin look-alikes."""
    for label in unicode_host.split("."):
        scripts = set()
        for ch in label:
            if ch.isalpha():
                name = unicodedata.name(ch, "")
                scripts.add(name.split(" ", 1)[0])
        if "LATIN" in scripts and scripts & _CONFUSABLE_SCRIPTS:
            return True
    return False


class LookalikeIndex:
    """The hosts worth protecting (allowed, sensitive, payment...), by skeleton."""

    def __init__(self, hosts: list[str]) -> None:
        self._by_labels: dict[int, dict[str, set[str]]] = {}
        for host in hosts:
            if not host:
                continue
            table = self._by_labels.setdefault(host.count(".") + 1, {})
            table.setdefault(skeleton(_display(host)), set()).add(host)

    def imitated(self, host: str, display_host: str) -> str | None:
        """The protected host this one imitates, or None. A host imitates D when its
        last labels look like D without being D (login.pаypal.com imitates paypal.com)."""
        labels = display_host.split(".")
        ascii_labels = host.split(".")
        for n, table in self._by_labels.items():
            if n > len(labels) or len(labels) != len(ascii_labels):
                continue
            targets = table.get(skeleton(".".join(labels[-n:])), set())
            if targets and ".".join(ascii_labels[-n:]) not in targets:
                return min(targets)
        return None


def _display(host: str) -> str:
    try:
        return host.encode("ascii").decode("idna").lower()
    except UnicodeError:
        return host
