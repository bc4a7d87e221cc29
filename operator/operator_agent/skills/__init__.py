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

from .compiler import compile_recording
from .events import Recording, load_recording, recordings_dir
from .features import EnrichingPerceiver
from .format import Skill, Step, Target, dump_skill, load_skill, parse_skill, save_skill, skills_dir
from .heal import Heal, ModelHealer, apply_heals
from .library import SkillLibrary
from .recorder import Recorder
from .replay import SkillPlanner
from .run import SkillRun, run_skill
from .use import SkillAwarePlanner, UseSkill, skills_prompt
from .values import resolve

__all__ = [
    "EnrichingPerceiver",
    "Heal",
    "ModelHealer",
    "Recorder",
    "Recording",
    "Skill",
    "SkillAwarePlanner",
    "SkillLibrary",
    "SkillPlanner",
    "SkillRun",
    "Step",
    "Target",
    "UseSkill",
    "apply_heals",
    "compile_recording",
    "dump_skill",
    "load_recording",
    "load_skill",
    "parse_skill",
    "recordings_dir",
    "resolve",
    "run_skill",
    "save_skill",
    "skills_dir",
    "skills_prompt",
]
