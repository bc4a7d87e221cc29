"""The skills the agent knows: the person's taught skills (skills_dir(): $OPERATOR_SKILLS_DIR,
else the user's data folder), then the ones shipped with the agent as defaults. A taught
skill hides a shipped one of the same name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..protocols import ConfigError
from .format import Skill, load_skill, shipped_dir, skills_dir


@dataclass(frozen=True)
class Entry:
    skill: Skill
    path: Path


class SkillLibrary:
    def __init__(self, dirs: list[Path] | None = None) -> None:
        found = dirs if dirs is not None else [skills_dir(), shipped_dir()]
        self.dirs = list(dict.fromkeys(d.resolve() for d in found))

    def entries(self) -> list[Entry]:
        seen: dict[str, Entry] = {}
        for d in self.dirs:
            for path in sorted(d.glob("*.yaml")) if d.is_dir() else []:
                try:
                    skill = load_skill(path)
                except ConfigError:
                    continue  # a broken file is reported by `operator skill show`, not here
                seen.setdefault(skill.name, Entry(skill, path))
        return list(seen.values())

    def get(self, ref: str) -> Entry:
        """A skill by name, or by the path of its file."""
        path = Path(ref)
        if path.suffix in (".yaml", ".yml") and path.is_file():
            return Entry(load_skill(path), path)
        for entry in self.entries():
            if entry.skill.name == ref:
                return entry
        known = ", ".join(e.skill.name for e in self.entries()) or "none yet"
        raise ConfigError(f"no skill named {ref!r} (known: {known}); teach one with `operator record` "
                          "and `operator learn`")
