"""Taught skills and recordings live in the user's folders, the shipped skills are package
data and only defaults: `operator learn NAME` finds a recording by name, and a taught
skill hides the shipped one of the same name."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import pytest
from skills_helpers import Learned

from operator_agent.permissions.paths import data_dir
from operator_agent.protocols import ConfigError
from operator_agent.skills import commands
from operator_agent.skills.events import find_recording, recordings_dir
from operator_agent.skills.format import shipped_dir, skills_dir
from operator_agent.skills.library import SkillLibrary

PACKAGE = Path(commands.__file__).resolve().parent


def _learn(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    commands.add_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(["learn", *argv])


def test_the_folders_are_the_users_unless_the_environment_moves_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The conftest points XDG_DATA_HOME into the test's folder: never the working directory.
    assert data_dir().is_relative_to(Path(os.environ["XDG_DATA_HOME"]))
    assert (skills_dir(), recordings_dir()) == (data_dir() / "skills", data_dir() / "recordings")
    assert shipped_dir() == PACKAGE / "shipped"
    assert {p.stem for p in shipped_dir().glob("*.yaml")} == {"buy-usb-cable", "book-flight"}
    monkeypatch.setenv("OPERATOR_SKILLS_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("OPERATOR_RECORDINGS_DIR", str(tmp_path / "shown"))
    assert (skills_dir(), recordings_dir()) == (tmp_path / "mine", tmp_path / "shown")


async def test_learn_takes_a_recording_by_name_and_the_taught_skill_comes_first(
        shop_learned: Learned) -> None:
    shutil.copytree(shop_learned.recording, recordings_dir() / "buy-usb-cable")
    assert await commands.cmd_learn(_learn("buy-usb-cable")) == 0
    taught = skills_dir() / "buy-usb-cable.yaml"
    assert taught.is_file()
    entries = SkillLibrary().entries()
    # Taught first, then the shipped defaults; the taught one hides the shipped one.
    assert [(e.skill.name, e.path.parent) for e in entries] == [
        ("buy-usb-cable", skills_dir()), ("book-flight", shipped_dir())]
    assert SkillLibrary().get("buy-usb-cable").path == taught


def test_an_unknown_recording_says_what_is_known(shop_learned: Learned) -> None:
    shutil.copytree(shop_learned.recording, recordings_dir() / "cable")
    assert find_recording(str(shop_learned.recording)) == shop_learned.recording  # a folder
    assert find_recording("cable") == recordings_dir() / "cable"  # a name
    with pytest.raises(ConfigError, match=r"no recording 'kettle'.*known: cable"):
        find_recording("kettle")
