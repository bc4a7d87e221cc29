"""The person's preferences: stored (store), parsed from their words (parser,
model_parser), shown to the planner when relevant (relevance), enforced before a
choice that breaks a must/never (guard), and learned from their choices (learning).

Page text is data: no path leads from an observation to a preference write.
"""

from .db import default_path
from .guard import PreferenceGuard, WithPreferences
from .learning import Learner, LearningHook
from .model import Draft, Preference
from .model_parser import parse_sentence
from .names import Names
from .parser import maybe_preference, parse
from .store import PreferenceStore
from .text import explain

__all__ = [
    "Draft",
    "Learner",
    "LearningHook",
    "Names",
    "Preference",
    "PreferenceGuard",
    "PreferenceStore",
    "WithPreferences",
    "default_path",
    "explain",
    "maybe_preference",
    "parse",
    "parse_sentence",
]
