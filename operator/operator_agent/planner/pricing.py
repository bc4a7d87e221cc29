"""What a call costs, for well-known OpenAI models.

Prices are USD per 1M tokens (input, output), standard tier, as published by
OpenAI in 2025. Unknown models get None so the run shows tokens only rather
than a made-up cost.
"""

from __future__ import annotations

from typing import NamedTuple


class Price(NamedTuple):
    input: float  # USD per 1M input tokens
    output: float  # USD per 1M output tokens


PRICES: dict[str, Price] = {
    "gpt-5": Price(1.25, 10.00),
    "gpt-5.1": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
    "gpt-5-pro": Price(15.00, 120.00),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-2024-05-13": Price(5.00, 15.00),  # the first gpt-4o snapshot cost more
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4-turbo": Price(10.00, 30.00),
    "gpt-3.5-turbo": Price(0.50, 1.50),
    "o1": Price(15.00, 60.00),
    "o1-mini": Price(1.10, 4.40),
    "o3": Price(2.00, 8.00),
    "o3-mini": Price(1.10, 4.40),
    "o3-pro": Price(20.00, 80.00),
    "o4-mini": Price(1.10, 4.40),
}

# Hosted routers name OpenAI models with a vendor prefix, at the same price.
_VENDOR_PREFIXES = ("openai/",)


def price(model: str) -> Price | None:
    """The price of `model`, matching dated variants ("gpt-4o-2024-08-06") by longest prefix."""
    name = model.strip().lower()
    for prefix in _VENDOR_PREFIXES:
        name = name.removeprefix(prefix)
    best: str | None = None
    for key in PRICES:
        # A prefix must end at a "-" boundary: "o3" prices "o3-2025-04-16", never "o3x".
        if (name == key or name.startswith(key + "-")) and (best is None or len(key) > len(best)):
            best = key
    return PRICES[best] if best is not None else None


def cost(model: str, input_tokens: int, output_tokens: int) -> float | None:
    """USD for these tokens, or None for a model we have no price for."""
    p = price(model)
    if p is None:
        return None
    return (input_tokens * p.input + output_tokens * p.output) / 1_000_000
