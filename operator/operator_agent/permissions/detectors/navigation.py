"""Where an action would take the browser, judged by the URL's real host.

The host is parsed the way Chromium parses it (hosts.py), never read off the
link text: `http://shop.test@evil.test/` goes to evil.test, `shop.test.evil.test`
is not shop.test, `xn--shp-...` may imitate shop.test. `javascript:` and `data:`
URLs are refused outright: they run or render whatever the model wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urljoin

from ...types import Element, Observation
from ..hosts import (
    LookalikeIndex,
    ParsedURL,
    URLError,
    clean,
    match_any,
    mixed_script,
    parse,
    scheme_of,
)
from ..policy import Policy
from .elements import frame_url
from .sites import SensitiveSites

_CODE_SCHEMES = {"javascript", "vbscript"}
_LOCAL_SCHEMES = {"file", "blob", "filesystem", "view-source", "chrome", "chrome-extension",
                  "chrome-untrusted", "devtools", "about", "ws", "wss", "ftp", "intent"}
# Link schemes that do not open a page (or run the page's own script): no host to check.
_NO_NAVIGATION = {"javascript", "mailto", "tel", "sms"}
_RANK = {"deny": 0, "ask": 1, "allow": 2}


@dataclass(frozen=True)
class NavCheck:
    decision: Literal["allow", "ask", "deny"]
    reason: str = ""
    host: str = ""
    kind: str = ""  # "ask_first" | "sensitive_site" when decision is "ask"
    grant: str = ""  # the pattern an approval covers (e.g. "*.chase.com")
    category: str = ""


def navigation_url(url: str) -> str:
    """The URL the browser executor will open for a Navigate action (it prefixes
    https:// when no scheme is given); the gate checks exactly this."""
    if "://" in url or url.startswith(("about:", "data:")):
        return url
    return "https://" + url


class NavigationChecker:
    def __init__(self, policy: Policy, sites: SensitiveSites, *, protected: Iterable[str] = ()) -> None:
        self.policy = policy
        self.sites = sites
        protect = [p.host for p in (*policy.allow, *policy.ask)] + sites.hosts() + list(protected)
        self._lookalikes = LookalikeIndex(protect)

    def check_url(self, url: str, *, typed: bool = True) -> NavCheck:
        """A URL the browser would open: from a Navigate action (`typed`, so the
        executor's https:// prefix applies), a link's href, or a page's address."""
        scheme = scheme_of(url)
        if scheme in _CODE_SCHEMES:
            return NavCheck("deny", f"{scheme}: URLs run code in the page; open http(s) pages only")
        if scheme == "data":
            return NavCheck("deny", "data: URLs show content the model wrote; open http(s) pages only")
        if clean(url) == "about:blank":
            return NavCheck("allow", "a blank page")
        if scheme in _LOCAL_SCHEMES:
            return NavCheck("deny", f"{scheme}: URLs are not web pages; open http(s) pages only")
        # A typed URL is checked as the executor will open it (https:// added when
        # there is no "://") and, if it already has a scheme, as written too: the
        # stricter answer counts, so the two readings can never be played off.
        candidates = [navigation_url(url), url] if typed and scheme in ("http", "https") else (
            [navigation_url(url)] if typed else [url])
        results = [self._check_one(u, url) for u in dict.fromkeys(candidates)]
        return min(results, key=lambda r: _RANK[r.decision])

    def _check_one(self, candidate: str, url: str) -> NavCheck:
        try:
            parsed = parse(candidate)
        except URLError as exc:
            return NavCheck("deny", f"cannot tell where {_short(url)} goes: {exc}")
        if parsed.scheme not in ("http", "https"):
            return NavCheck("deny", f"{parsed.scheme}: URLs are not web pages; open http(s) pages only")
        if parsed.userinfo:
            return NavCheck("deny", f"{_short(url)} hides its real host {parsed.host} behind a user name "
                                    "('@'); write the host directly", host=parsed.host)
        return self.check_parsed(parsed)

    def check_parsed(self, parsed: ParsedURL) -> NavCheck:
        return self.check_host(parsed.host, parsed.display_host)

    def check_host(self, host: str, display_host: str | None = None) -> NavCheck:
        """The policy's answer for a host (already normalized by hosts.parse)."""
        display = display_host or host
        p = self.policy
        denied = match_any(p.deny, host)
        if denied is not None:
            return NavCheck("deny", f"{display} is denied by the policy ({denied})", host=host)
        allowed = match_any(p.allow, host)
        imitated = None if allowed else self._lookalikes.imitated(host, display)  # the person vouched
        if imitated is not None:
            return NavCheck("deny", f"{display} ({host}) looks like {imitated} but is another site",
                            host=host)
        if not allowed and mixed_script(display):
            return NavCheck("deny", f"{display} ({host}) mixes Latin with look-alike letters of "
                                    "another script", host=host)
        ask = match_any(p.ask, host)
        if p.allow_only and allowed is None and ask is None:
            return NavCheck("deny", f"{display} is not in the policy's allowed domains (allow_only)",
                            host=host)
        if ask is not None:
            return NavCheck("ask", f"{display} is on the policy's ask-first list", host=host,
                            kind="ask_first", grant=str(ask))
        site = self.sites.match(host)
        if site is not None:
            return NavCheck("ask", f"{display} is a sensitive site ({site.category})", host=host,
                            kind="sensitive_site", grant=str(site.pattern), category=site.category)
        return NavCheck("allow", host=host)


def link_target(el: Element, obs: Observation) -> str | None:
    """The absolute URL a click on this element would open, or None (not a link,
    or a link that runs script / opens a mail program rather than a page)."""
    href = el.attributes.get("href")
    if not href or href.startswith("#"):
        return None
    if scheme_of(href) in _NO_NAVIGATION:
        return None
    try:
        return urljoin(frame_url(el, obs), clean(href))
    except ValueError:
        return href  # unparseable: the checker denies it


def _short(url: str) -> str:
    url = clean(url)
    return repr(url if len(url) <= 80 else url[:77] + "...")
