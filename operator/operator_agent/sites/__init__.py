"""The practice sites: a shop (Brightcart) and a flight-booking site (Skyway) with a
payment processor (Paylane) on another origin, generated from a seed, with server-side
state that tests and evaluations read and reset. See evals/sites/README.md."""

from .common import Knobs
from .practice import PracticeSites

__all__ = ["Knobs", "PracticeSites"]
