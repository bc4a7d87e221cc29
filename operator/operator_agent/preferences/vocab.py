"""General words the parser and the page reader know: seat kinds, departure
windows, shipping speeds, the kinds of things people buy, and the words that are
never a name. Shared so that what the parser stores and what the guard reads off a
page use the same values.

No brand or airline is listed here to be recognised by name: names are found by a
sentence's structure ("fly X", "X cables", "buy from X") and learned from the
person's own data (see names.py). The one exception is a short list of real
airlines whose names do not say they are airlines ("Delta", "Ryanair"), so that
"I prefer Delta" is not taken for a brand.
"""

from __future__ import annotations

import re

from .context import STOPWORDS

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

# A name ending (or starting) so is an airline's: "Condor Air", "Air France", "Aer Lingus".
AIRLINE_SUFFIX = re.compile(r"\s(?:Air|Airways|Airlines|Air Lines|Airline|Aviation)$")
AIRLINE_PREFIX = re.compile(r"^(?:Air|Aer)\s")

# Real airlines whose names do not say "Air": world knowledge, like the cabin classes.
WELL_KNOWN_AIRLINES = (
    "Delta", "United", "Southwest", "JetBlue", "Lufthansa", "KLM", "Iberia", "Ryanair", "easyJet",
    "Emirates", "Etihad", "Qantas", "Vueling", "Finnair", "SAS", "Swiss", "Spirit", "Frontier",
    "Norwegian", "Aer Lingus", "Cathay Pacific", "Virgin Atlantic",
)
# Short forms people use for real airlines.
AIRLINE_ALIASES = {"TAP": "TAP Air Portugal", "BA": "British Airways"}


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _forms(nouns: str) -> frozenset[str]:
    """Singular nouns with their plurals (cable -> cables, battery -> batteries, box -> boxes)."""
    out: set[str] = set()
    for n in nouns.split():
        n = n.replace("_", " ")
        out |= {n, n + "s", n + "es"}
        if n.endswith("y"):
            out.add(n[:-1] + "ies")
    return frozenset(out)


# Words that make the name before them an airline's: "Qantas flights".
FLIGHT_NOUNS = _forms("flight plane airline carrier fare jet")
# Kinds of things people buy: the name before one is a brand's ("Sony headphones").
PRODUCT_NOUNS = _forms("""
    product brand gear stuff goods item thing kit accessory device gadget electronics
    cable cord charger adapter adaptor hub dock headphone headset earbud earphone speaker soundbar
    laptop computer pc tablet phone smartphone case cover protector keyboard mouse mice monitor
    battery power_bank camera lens watch smartwatch tv television printer router drive ssd
    console controller game toy shoe sneaker trainer boot sandal shirt t-shirt jacket coat jean
    trouser sock clothes clothing apparel backpack bag luggage suitcase kettle blender toaster
    coffee tea cookware pan knife appliance furniture mattress pillow towel cosmetic shampoo soap
    vitamin food snack pen paper tool drill bike bicycle tire tyre lamp bulb filter razor
""")
# Words before a name that say what kind of name follows: "the brand Sony".
BRAND_WORDS = frozenset({"brand", "make", "maker", "manufacturer", "label", "store", "shop", "seller",
                         "retailer", "vendor", "merchant"})
AIRLINE_WORDS = frozenset({"airline", "carrier"})

# Capitalised words that are never a name on their own: how sentences start, the
# words of preferences, and the general words of flights and shops.
GENERAL_WORDS = STOPWORDS | FLIGHT_NOUNS | PRODUCT_NOUNS | _wordset("""
    i i'd i'm i've i'll me my we us our you your it's that's let's
    prefer preferably preference preferences avoid avoiding never always only usually generally
    ideally rather like likes love hate dislike detest want need needs must please ok okay yes no
    not don't dont doesn't won't can't cannot shouldn't wouldn't never-ever
    keep make use using choose pick book booking booked fly flying flew buy buying bought order
    ordering purchase get ship shipping send deliver delivery sit sitting travel travelling
    traveling stay stick try go going take taking spend spending remember note
    when while whenever if unless except instead besides also anything everything something
    nothing anyone everyone someone whatever wherever everywhere anywhere somewhere
    window aisle middle exit row bulkhead seat seats economy business first class premium basic
    cabin light flex classic saver plus comfort main standard express expedited priority free
    next-day same-day two-day overnight ground regular normal
    red-eye red-eyes redeye nonstop non-stop direct connecting connection connections layover
    layovers stop stops stopover morning afternoon evening night early late departure departures
    arrival arrivals return outbound inbound
    cheap cheaper cheapest budget affordable expensive quality good better best great nice new
    used refurbished original genuine generic wireless wired long short fast faster fastest
    slow small large big quiet recommended sponsored deal deals value select selected
    chinese japanese korean german french italian spanish british american european asian local
    foreign domestic international
    usb usb-c usb-a hdmi bluetooth wi-fi wifi led lcd oled lightning type-c
    monday tuesday wednesday thursday friday saturday sunday weekday weekdays weekend weekends
    today tomorrow tonight january february april june july august september october november
    december
""")


def general(word: str) -> bool:
    """Whether a word is a general one, never a name on its own (any case, "'s" dropped)."""
    w = word.casefold().replace("’", "'").strip(".,")
    return w.removesuffix("'s") in GENERAL_WORDS


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


def speed_of(text: str) -> str | None:
    """The shipping speed a phrase names ("Next-day delivery" -> next-day)."""
    low = text.casefold()
    for speed in ("same-day", "next-day", "two-day", "express", "standard", "free"):
        for word in SPEEDS[speed]:
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", low):
                return speed
    return None


def name_key(name: str) -> str:
    """What makes two names the same: case, spacing and a trailing Air/Airways/Airlines don't matter."""
    s = " ".join(name.casefold().split())
    return re.sub(r"\s+(air|airways|airlines|air lines)$", "", s)


def same_name(a: str, b: str) -> bool:
    """Loose name equality (see name_key)."""
    return name_key(a) == name_key(b)
