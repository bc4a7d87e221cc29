"""Generates the shop's catalogue from a seed into SQLite: the same seed always gives the
same products, variants, prices, stock and reviews; another seed gives others.

Every draw comes from one random.Random seeded with a string (stable across Python
runs, unlike hash()), in a fixed order, so nothing depends on dict or set order.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
import sqlite3
from pathlib import Path
from typing import Any

from .catalog_data import ADJECTIVES, CATEGORIES, FIRST, GENERIC, LAST_INITIAL, REVIEWS, Category, Kind

VERSION = 2  # bump when generation changes, so cached catalogues are rebuilt
DEFAULT_COUNT = 1200
BASE_DATE = dt.date(2025, 6, 1)

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE products (
  id INTEGER PRIMARY KEY, slug TEXT NOT NULL, title TEXT NOT NULL, brand TEXT NOT NULL,
  category TEXT NOT NULL, category_name TEXT NOT NULL, kind TEXT NOT NULL, description TEXT NOT NULL,
  price INTEGER NOT NULL, list_price INTEGER, rating REAL, review_count INTEGER NOT NULL,
  stock INTEGER NOT NULL, colour_label TEXT, size_label TEXT, added TEXT NOT NULL, hue INTEGER NOT NULL);
CREATE TABLE variants (
  id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL, colour TEXT, size TEXT, price INTEGER NOT NULL,
  stock INTEGER NOT NULL, sku TEXT NOT NULL);
CREATE INDEX variants_product ON variants(product_id);
CREATE TABLE reviews (
  id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL, author TEXT NOT NULL, rating INTEGER NOT NULL,
  title TEXT NOT NULL, body TEXT NOT NULL, date TEXT NOT NULL);
CREATE INDEX reviews_product ON reviews(product_id);
CREATE VIRTUAL TABLE products_fts USING fts5(
  title, brand, category_name, description, content='products', content_rowid='id',
  tokenize='porter unicode61');
"""


def _price(rng: random.Random, lo: int, hi: int) -> int:
    """A shelf price: whole dollars ending .99, .49 or .95, inside [lo, hi]."""
    dollars = rng.randint(lo // 100, max(lo // 100, hi // 100 - 1))
    return dollars * 100 + rng.choice((99, 99, 99, 49, 95))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


def _pick_kind(rng: random.Random, cat: Category) -> Kind:
    return rng.choices(cat.kinds, weights=[k.weight for k in cat.kinds])[0]


def _kinds_for(rng: random.Random, cat: Category, n: int) -> list[Kind]:
    """n kinds for a category; the first kind of Cables & Adapters (USB-C cables) gets
    a guaranteed block, because the README's main task is buying one under $15."""
    kinds: list[Kind] = []
    if cat.slug == "cables-adapters":
        kinds = [cat.kinds[0]] * min(n, 40)
    kinds += [_pick_kind(rng, cat) for _ in range(n - len(kinds))]
    rng.shuffle(kinds)
    return kinds


def _reviews(rng: random.Random, pid: int, rating: float | None, count: int) -> list[tuple[Any, ...]]:
    rows = []
    for _ in range(min(count, 6)):
        stars = max(1, min(5, round(rng.gauss(rating or 4, 0.9))))
        title, body = rng.choice(REVIEWS[stars])
        author = f"{rng.choice(FIRST)} {rng.choice(LAST_INITIAL)}."
        date = (BASE_DATE - dt.timedelta(days=rng.randint(1, 700))).isoformat()
        rows.append((pid, author, stars, title, body, date))
    rows.sort(key=lambda r: r[5], reverse=True)
    return rows


def generate(seed: int, count: int = DEFAULT_COUNT) -> dict[str, list[tuple[Any, ...]]]:
    """The catalogue as rows per table (products, variants, reviews), in memory."""
    rng = random.Random(f"brightcart:{seed}")
    total_share = sum(c.share for c in CATEGORIES)
    plan: list[tuple[Category, Kind]] = []
    for i, cat in enumerate(CATEGORIES):
        n = count - len(plan) if i == len(CATEGORIES) - 1 else round(count * cat.share / total_share)
        plan += [(cat, kind) for kind in _kinds_for(rng, cat, n)]
    products: list[tuple[Any, ...]] = []
    variants: list[tuple[Any, ...]] = []
    reviews: list[tuple[Any, ...]] = []
    titles: set[str] = set()
    usb_c = 0
    for pid, (cat, kind) in enumerate(plan, start=1):
        lo, hi = kind.price
        if kind is cat.kinds[0] and cat.slug == "cables-adapters":
            # Alternate USB-C cables under and over $15 so both answers always exist.
            lo, hi = ((lo, 1449) if usb_c % 2 == 0 else (1549, hi))
            usb_c += 1
        base = _price(rng, lo, hi)
        # Dearer products get the better spec (a $6 cable is not Thunderbolt 4), give or take one.
        where = (base - kind.price[0]) / max(1, kind.price[1] - kind.price[0])
        at = min(len(kind.specs) - 1, max(0, int(where * len(kind.specs)) + rng.choice((-1, 0, 0, 1))))
        brand = rng.choice(cat.brands)
        title = f"{brand} {rng.choice(ADJECTIVES)} {kind.name}, {kind.specs[at]}"
        if title in titles:  # same words twice: a later model of it
            title = f"{title} (Gen {rng.randint(2, 5)})"
        titles.add(title)
        colours = rng.sample(kind.colours, rng.randint(1, min(4, len(kind.colours)))) if kind.colours else []
        colours.sort(key=kind.colours.index)
        sizes: list[str] = []
        if kind.sizes:
            k = rng.randint(1, min(4, len(kind.sizes)))
            start = rng.randint(0, len(kind.sizes) - k)
            sizes = list(kind.sizes[start:start + k])
        sold_out = rng.random() < 0.04
        stock_total = 0
        for ci, colour in enumerate(colours or [None]):
            for si, size in enumerate(sizes or [None]):
                r = rng.random()
                # Some options sell out; about one in ten runs low ("Only 3 left").
                low = rng.randint(1, 5) if r < 0.18 else rng.randint(6, 250)
                stock = 0 if sold_out or r < 0.08 else low
                stock_total += stock
                sku = f"{brand[:3].upper()}-{pid:05d}-{ci}{si}"
                variants.append((pid, colour, size, base + si * kind.size_step, stock, sku))
        review_count = max(0, int(math.exp(rng.uniform(0, 9.6))) - 1)
        rating = round(min(5.0, max(1.5, rng.gauss(4.3, 0.45))), 1) if review_count else None
        list_price = base + rng.randint(2, 15) * 100 if rng.random() < 0.2 else None  # "was" price
        features = rng.sample(kind.features, min(len(kind.features), 2))
        description = " ".join([f"The {title}.", *features, rng.choice(GENERIC)])
        added = (BASE_DATE - dt.timedelta(days=rng.randint(0, 900))).isoformat()
        products.append((pid, _slug(title), title, brand, cat.slug, cat.name, kind.name, description, base,
                         list_price, rating, review_count, stock_total,
                         "Colour" if colours else None, kind.size_label if sizes else None, added,
                         rng.randint(0, 359)))
        reviews += _reviews(rng, pid, rating, review_count)
    return {"products": products, "variants": variants, "reviews": reviews}


def build(seed: int, path: Path, count: int = DEFAULT_COUNT) -> Path:
    """Writes the catalogue for seed to path (SQLite), reusing an existing file built
    by this generator version for the same seed and size."""
    if path.exists():
        try:
            with sqlite3.connect(path) as conn:
                meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if meta == {"seed": str(seed), "version": str(VERSION), "count": str(count)}:
                return path
        except sqlite3.Error:
            pass
        path.unlink()
    tables = generate(seed, count)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript(SCHEMA)
        conn.executemany(f"INSERT INTO products VALUES ({','.join('?' * 17)})", tables["products"])
        conn.executemany("INSERT INTO variants (product_id, colour, size, price, stock, sku)"
                         " VALUES (?,?,?,?,?,?)", tables["variants"])
        conn.executemany("INSERT INTO reviews (product_id, author, rating, title, body, date)"
                         " VALUES (?,?,?,?,?,?)", tables["reviews"])
        conn.execute("INSERT INTO products_fts(products_fts) VALUES ('rebuild')")
        conn.executemany("INSERT INTO meta VALUES (?, ?)",
                         [("seed", str(seed)), ("version", str(VERSION)), ("count", str(count))])
        conn.commit()
    finally:
        conn.close()
    tmp.replace(path)  # atomic: a half-written catalogue is never read
    return path
