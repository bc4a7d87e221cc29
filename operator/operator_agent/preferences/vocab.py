"""Names and words the rule-based parser and the page reader know: airlines, brands,
seat kinds, departure windows, shipping speeds. Shared so that what the parser
stores and what the guard reads off a page use the same values."""

from __future__ import annotations

import re

# Canonical airline names. Those that are also ordinary words ("United", "Spirit")
# are matched only when capitalised.
AIRLINES = (
    "Lusitania Air", "Northwind Airways", "Iberiana", "Crescent Airways", "Meridian Airways",
    "Aerolis", "Hansa Blue", "Pacific Crest", "Skyjet", "Brisa Europa",
    "TAP Air Portugal", "Delta", "United", "American Airlines", "Southwest", "JetBlue",
    "Alaska Airlines", "Lufthansa", "British Airways", "Air France", "KLM", "Iberia", "Ryanair",
    "easyJet", "Emirates", "Qatar Airways", "Turkish Airlines", "Singapore Airlines", "Air Canada",
    "Spirit", "Frontier", "Wizz Air", "Vueling", "Aer Lingus", "Swiss", "Virgin Atlantic", "Qantas",
    "Japan Airlines", "Cathay Pacific", "Etihad", "Norwegian", "Finnair", "SAS",
)
_COMMON_WORDS = {"Delta", "United", "Southwest", "Spirit", "Frontier", "Swiss", "Emirates", "Norwegian",
                 "Pacific Crest"}
AIRLINE_ALIASES = {"TAP": "TAP Air Portugal", "BA": "British Airways"}  # matched as capitalised

BRANDS = (
    "Anker", "Apple", "Samsung", "Sony", "Bose", "Belkin", "Logitech", "Nike", "Adidas", "Lenovo",
    "Dell", "Asus", "Acer", "Microsoft", "Google", "Philips", "Canon", "Nikon", "Ikea", "Patagonia",
    "Sennheiser", "JBL", "Ugreen", "Amazon Basics", "Xiaomi", "Razer", "Corsair",
    "Voltix", "Cordova", "Linkwell", "Braidly", "Tetherline", "Amperio", "Portside", "NovaCharge",
    "Gridline", "Armorix", "Shellguard", "Keyforge", "Clickmate", "Deskwise", "Logicraft",
)

SEAT_KINDS = ("window", "aisle", "middle", "exit row", "bulkhead")

# Departure windows by the hour a flight leaves: [start, end) in minutes after midnight.
WINDOWS: dict[str, tuple[int, int]] = {
    "red-eye": (22 * 60, 5 * 60),  # wraps past midnight
    "early-morning": (5 * 60, 8 * 60),
    "morning": (5 * 60, 12 * 60),
    "afternoon": (12 * 60, 17 * 60),
    "evening": (17 * 60, 22 * 60),
}

SPEEDS: dict[str, tuple[str, ...]] = {
    "express": ("express", "expedited", "priority", "premium", "fast", "faster", "fastest"),
    "next-day": ("next-day", "next day", "overnight", "one-day", "1-day"),
    "same-day": ("same-day", "same day"),
    "two-day": ("two-day", "two day", "2-day"),
    "standard": ("standard", "regular", "normal", "economy", "cheapest", "slow", "slowest", "ground"),
    "free": ("free",),
}


def windows_of(minutes: int) -> set[str]:
    """The departure windows a time of day falls in (a time may be in two)."""
    found = set()
    for name, (start, end) in WINDOWS.items():
        inside = start <= minutes < end if start < end else (minutes >= start or minutes < end)
        if inside:
            found.add(name)
    return found


def primary_window(minutes: int) -> str:
    """One window per time, for learning: red-eye, morning, afternoon or evening."""
    ws = windows_of(minutes)
    for name in ("red-eye", "morning", "afternoon", "evening"):
        if name in ws:
            return name
    return "evening"


def _name_pattern(name: str, *, cased: bool) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(part) for part in name.split())
    return re.compile(rf"(?<![\w-]){body}(?![\w-])", 0 if cased else re.IGNORECASE)


AIRLINE_PATTERNS = [(n, _name_pattern(n, cased=n in _COMMON_WORDS)) for n in AIRLINES]
BRAND_PATTERNS = [(n, _name_pattern(n, cased=n in ("Apple", "Google", "Canon"))) for n in BRANDS]


ALIAS_PATTERNS = [(n, _name_pattern(a, cased=True)) for a, n in AIRLINE_ALIASES.items()]


def known_airlines(text: str) -> list[str]:
    found = [name for name, pat in AIRLINE_PATTERNS if pat.search(text)]
    found += [name for name, pat in ALIAS_PATTERNS if name not in found and pat.search(text)]
    return found


def known_brands(text: str) -> list[str]:
    return [name for name, pat in BRAND_PATTERNS if pat.search(text)]


def speed_of(text: str) -> str | None:
    """The shipping speed a phrase names ("Next-day delivery" -> next-day)."""
    low = text.casefold()
    for speed in ("same-day", "next-day", "two-day", "express", "standard", "free"):
        for word in SPEEDS[speed]:
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", low):
                return speed
    return None


def same_name(a: str, b: str) -> bool:
    """Loose name equality: case, spacing and a trailing Air/Airways/Airlines don't matter."""
    def norm(s: str) -> str:
        s = " ".join(s.casefold().split())
        return re.sub(r"\s+(air|airways|airlines|air lines)$", "", s)
    return norm(a) == norm(b)
