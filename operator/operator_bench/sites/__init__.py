"""The practice sites: a shop (Brightcart) and a flight-booking site (Skyway) with a
payment processor (Paylane) on another origin, generated from a seed, with server-side
state that tests and evaluations read and reset. See README.md here."""

from importlib import import_module
from typing import Any

# Imported on first use: `operator` loads serve.py (its `sites` command) at every start,
# and the sites themselves pull in Starlette, uvicorn and the catalogue.
_EXPORTS = {"Knobs": "common", "PracticeSites": "practice"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
