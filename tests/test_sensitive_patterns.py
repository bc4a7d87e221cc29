"""The perceiver (dom.js) and the recorder (describe.js) each run in the page as one
self-contained script, so each carries the patterns that mark password and card
fields. They must never drift: a field the recorder thinks ordinary would have its
value written to a recording."""

from __future__ import annotations

import re
from importlib import resources


def _patterns(package: str, name: str) -> dict[str, str]:
    source = resources.files(package).joinpath(name).read_text("utf-8")
    return dict(re.findall(r"const (SENS_AC|SENS_RE) = (/.+/);", source))


def test_recorder_and_perceiver_mark_the_same_fields_sensitive() -> None:
    perceiver = _patterns("operator_agent.perception", "dom.js")
    recorder = _patterns("operator_agent.skills", "describe.js")
    assert set(perceiver) == {"SENS_AC", "SENS_RE"}
    assert recorder == perceiver
