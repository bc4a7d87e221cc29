"""Reading the shop's catalogue: search with relevance ranking (SQLite FTS5, BM25 with
titles weighted above descriptions), filters, facets, sorting, pagination, and
product pages with variants and reviews."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..common import Db
from .catalog_data import CATEGORIES

PER_PAGE = 24
SORTS = {
    "relevance": "Featured",
    "price-asc": "Price: low to high",
    "price-desc": "Price: high to low",
    "rating": "Avg. customer review",
    "reviews": "Most reviews",
    "newest": "Newest arrivals",
}
SYNONYMS = {"usbc": ["usb", "c"], "typec": ["usb", "c"], "lightening": ["lightning"]}  # common misspellings
CATEGORY_NAMES = {c.slug: c.name for c in CATEGORIES}


def _cents(text: str) -> int | None:
    text = (text or "").replace("$", "").replace(",", "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return round(value * 100) if value >= 0 and math.isfinite(value) else None


@dataclass
class SearchQuery:
    q: str = ""
    category: str = ""
    brands: list[str] = field(default_factory=list)
    min_price: int | None = None  # cents
    max_price: int | None = None
    min_rating: float | None = None
    in_stock: bool = False
    sort: str = "relevance"
    page: int = 1

    @classmethod
    def from_params(cls, params: Any) -> SearchQuery:
        """From a query string (a Starlette QueryParams or a dict); bad values are ignored,
        as a shop ignores a mangled URL rather than failing."""
        get = params.get
        brands = params.getlist("brand") if hasattr(params, "getlist") else list(params.get("brand") or [])
        rating = get("rating") or ""
        try:
            page = max(1, int(get("page") or 1))
        except ValueError:
            page = 1
        sort = get("sort") or "relevance"
        return cls(q=(get("q") or "").strip()[:200], category=get("category") or "",
                   brands=[b for b in brands if b], min_price=_cents(get("min_price") or ""),
                   max_price=_cents(get("max_price") or ""),
                   min_rating=float(rating) if re.fullmatch(r"[1-4](\.\d)?", rating) else None,
                   in_stock=(get("in_stock") or "") in {"1", "on", "true"},
                   sort=sort if sort in SORTS else "relevance", page=page)


@dataclass
class SearchResult:
    items: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    categories: list[dict[str, Any]]
    brands: list[dict[str, Any]]
    any_words: bool  # no product had every word: these match some of them


def fts_terms(q: str) -> list[str]:
    words: list[str] = []
    for w in re.findall(r"[a-z0-9]+", q.lower()):
        words += SYNONYMS.get(w, [w])
    return words


class Catalog:
    def __init__(self, path: Path) -> None:
        self.db = Db(path)
        meta = {r["key"]: r["value"] for r in self.db.all("SELECT key, value FROM meta")}
        self.seed = int(meta["seed"])
        self.count = int(meta["count"])

    # --- search -------------------------------------------------------------

    def _where(self, query: SearchQuery, *, skip: str = "") -> tuple[list[str], list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if query.category and skip != "category":
            where.append("p.category = ?")
            args.append(query.category)
        if query.brands and skip != "brand":
            where.append(f"p.brand IN ({','.join('?' * len(query.brands))})")
            args += query.brands
        if query.min_price is not None:
            where.append("p.price >= ?")
            args.append(query.min_price)
        if query.max_price is not None:
            where.append("p.price <= ?")
            args.append(query.max_price)
        if query.min_rating is not None:
            where.append("p.rating >= ?")
            args.append(query.min_rating)
        if query.in_stock:
            where.append("p.stock > 0")
        return where, args

    def _run(self, query: SearchQuery, match: str | None, select: str, *, skip: str = "",
             tail: str = "", extra: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        where, args = self._where(query, skip=skip)
        if match is not None:
            sql = f"SELECT {select} FROM products_fts JOIN products p ON p.id = products_fts.rowid"
            where.insert(0, "products_fts MATCH ?")
            args.insert(0, match)
        else:
            sql = f"SELECT {select} FROM products p"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return self.db.all(f"{sql} {tail}", (*args, *extra))

    def search(self, query: SearchQuery, per_page: int = PER_PAGE) -> SearchResult:
        terms = fts_terms(query.q)
        match: str | None = None
        any_words = False
        if terms:
            match = " ".join(f'"{t}"' for t in terms)
            if not self._run(query, match, "1", tail="LIMIT 1") and len(terms) > 1:
                match = " OR ".join(f'"{t}"' for t in terms)  # no product has them all: any of them
                any_words = True
        total = self._run(query, match, "COUNT(*) AS n")[0]["n"]
        order = {
            "relevance": ("bm25(products_fts, 10.0, 4.0, 2.0, 1.0), p.review_count DESC" if match
                          else "p.review_count DESC"),
            "price-asc": "p.price ASC",
            "price-desc": "p.price DESC",
            "rating": "COALESCE(p.rating, 0) DESC, p.review_count DESC",
            "reviews": "p.review_count DESC",
            "newest": "p.added DESC",
        }[query.sort]
        pages = max(1, math.ceil(total / per_page))
        page = min(query.page, pages)
        items = self._run(query, match, "p.*", tail=f"ORDER BY {order}, p.id LIMIT ? OFFSET ?",
                          extra=(per_page, (page - 1) * per_page))
        self._add_options(items)
        categories = self._run(query, match, "p.category AS slug, p.category_name AS name, COUNT(*) AS count",
                               skip="category", tail="GROUP BY p.category ORDER BY count DESC")
        brands = self._run(query, match, "p.brand AS name, COUNT(*) AS count", skip="brand",
                           tail="GROUP BY p.brand ORDER BY count DESC, p.brand LIMIT 15")
        return SearchResult(items, total, page, pages, categories, brands, any_words)

    def _add_options(self, items: list[dict[str, Any]]) -> None:
        if not items:
            return
        ids = [i["id"] for i in items]
        rows = self.db.all(
            f"SELECT product_id, COUNT(DISTINCT colour) AS colours, COUNT(DISTINCT size) AS sizes"
            f" FROM variants WHERE product_id IN ({','.join('?' * len(ids))}) GROUP BY product_id",
            tuple(ids))
        by_id = {r["product_id"]: r for r in rows}
        for item in items:
            opts = by_id.get(item["id"], {})
            item["colours"] = opts.get("colours", 0)
            item["sizes"] = opts.get("sizes", 0)

    # --- products -----------------------------------------------------------

    def product(self, pid: int) -> dict[str, Any] | None:
        product = self.db.one("SELECT * FROM products WHERE id = ?", (pid,))
        if product is None:
            return None
        product["variants"] = self.db.all("SELECT * FROM variants WHERE product_id = ? ORDER BY id", (pid,))
        product["reviews"] = self.db.all("SELECT * FROM reviews WHERE product_id = ? ORDER BY date DESC",
                                         (pid,))
        product["colours"] = list(dict.fromkeys(v["colour"] for v in product["variants"] if v["colour"]))
        product["sizes"] = list(dict.fromkeys(v["size"] for v in product["variants"] if v["size"]))
        return product

    def variant(self, vid: int) -> dict[str, Any] | None:
        return self.db.one(
            "SELECT v.*, p.title, p.brand, p.slug, p.colour_label, p.size_label, p.hue, p.kind"
            " FROM variants v JOIN products p ON p.id = v.product_id WHERE v.id = ?", (vid,))

    def related(self, product: dict[str, Any], n: int = 4) -> list[dict[str, Any]]:
        return self.db.all("SELECT * FROM products WHERE kind = ? AND id != ? ORDER BY review_count DESC"
                           " LIMIT ?", (product["kind"], product["id"], n))

    def popular(self, n: int = 8, category: str | None = None) -> list[dict[str, Any]]:
        if category:
            return self.db.all("SELECT * FROM products WHERE category = ? AND stock > 0"
                               " ORDER BY review_count DESC LIMIT ?", (category, n))
        return self.db.all("SELECT * FROM products WHERE stock > 0 ORDER BY review_count DESC LIMIT ?", (n,))

    def digest(self) -> list[tuple[Any, ...]]:
        """Every product and variant row, for comparing two catalogues."""
        with self.db.lock:
            products = self.db.conn.execute("SELECT * FROM products ORDER BY id").fetchall()
            variants = self.db.conn.execute("SELECT * FROM variants ORDER BY id").fetchall()
        return [tuple(r) for r in products] + [tuple(r) for r in variants]
