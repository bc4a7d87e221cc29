"""Teach by demonstration: record what a person does in a browser, learn a skill from
it, and replay the skill with new inputs through the normal agent loop.

    recorder.Recorder        records a browser context into a recording folder
    compiler.compile_recording   a recording -> a Skill (parameters, steps, checks)
    format.Skill, load_skill, save_skill   the YAML skill file
    replay.SkillPlanner      replays a skill as a Planner (gate, executor, trace unchanged)
    run.run_skill            a replay in a browser session that describes elements well
    use.SkillAwarePlanner    lets a model run a skill as one action (use_skill)
    planner.skills           the offline planner: picks a skill for a task (no model)

CLI: `operator record | learn | skill run | skill list | skill show` (commands.py).
"""

from importlib import import_module
from typing import Any

# Imported on first use: `operator skill --help`, `record`, `learn` and every command that only
# needs one of these need not load Playwright, PIL, YAML and openai.
_EXPORTS = {
    "compile_recording": "compiler", "Recording": "events", "load_recording": "events",
    "recordings_dir": "events", "EnrichingPerceiver": "features", "Skill": "format",
    "Step": "format", "Target": "format", "dump_skill": "format", "load_skill": "format",
    "parse_skill": "format", "save_skill": "format", "skills_dir": "format", "Heal": "heal",
    "ModelHealer": "heal", "apply_heals": "heal", "SkillLibrary": "library",
    "Recorder": "recorder", "SkillPlanner": "replay", "SkillRun": "run", "run_skill": "run",
    "SkillAwarePlanner": "use", "UseSkill": "use", "skills_prompt": "use", "resolve": "values",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
