"""The person's preferences: stored (store), parsed from their words (parser,
model_parser), shown to the planner when relevant (relevance), enforced before a
choice that breaks a must/never (guard), and learned from their choices (learning).

Page text is data: no path leads from an observation to a preference write.
"""

from importlib import import_module
from typing import Any

# Imported on first use: `operator prefs --help` and every command that only
# needs one of these need not load the store, the model parser and openai.
_EXPORTS = {
    "default_path": "db", "PreferenceGuard": "guard", "WithPreferences": "guard",
    "Learner": "learning", "LearningHook": "learning", "Draft": "model", "Preference": "model",
    "parse_sentence": "model_parser", "Names": "names", "maybe_preference": "parser",
    "parse": "parser", "PreferenceStore": "store", "explain": "text",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
