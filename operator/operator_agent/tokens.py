"""Token counts without ever downloading anything.

tiktoken fetches its encoding files on first use, which fails (slowly) on a
machine without internet. We only load an encoding when its file is already in
tiktoken's cache; otherwise we estimate (about four characters a token) and say
so. At run time the model's own reported usage is the authority.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from functools import lru_cache
from typing import Any

# tiktoken names cache entries by the sha1 of the encoding's download address.
_CACHE_KEYS = {
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
}


def _cache_dir() -> str:
    return (os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
            or os.path.join(tempfile.gettempdir(), "data-gym-cache"))


def _cached(name: str) -> bool:
    key = _CACHE_KEYS.get(name)
    return key is not None and os.path.isfile(os.path.join(_cache_dir(), key))


def tokenizer_available(encoding: str = "o200k_base") -> bool:
    """Whether count_tokens would count exactly, answered without loading the tokenizer
    (that takes a quarter of a second or more): its cache file is there and tiktoken installed."""
    return _cached(encoding) and importlib.util.find_spec("tiktoken") is not None


@lru_cache(maxsize=4)
def _encoding(name: str) -> Any | None:
    # Loaded on the first count that needs it, never at import: most commands count nothing.
    if not _cached(name):
        return None
    try:
        import tiktoken

        return tiktoken.get_encoding(name)
    except Exception:  # a broken cache must never break a run
        return None


def count_tokens(text: str, encoding: str = "o200k_base") -> tuple[int, bool]:
    """Return (tokens, estimated). estimated is True when no tokenizer was available."""
    enc = _encoding(encoding)
    if enc is None:
        return (len(text) + 3) // 4, True
    return len(enc.encode(text, disallowed_special=())), False
