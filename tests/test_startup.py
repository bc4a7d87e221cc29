"""Starting fast: `operator --version`, `--help` and each command import only what they
need, the commands listed without importing their modules are the ones those modules
add, and the tokenizer is loaded only for a count."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from operator_agent import cli
from operator_agent.tokens import count_tokens, tokenizer_available

SHARED_TIKTOKEN = Path(__file__).resolve().parents[2] / "shared" / "tiktoken"
HEAVY = ("playwright", "openai", "tiktoken", "numpy", "cv2", "pydantic", "PIL")

# In a fresh interpreter, as the console script does it: main() reads sys.argv.
RUN_CLI = """
import json, sys
from operator_agent.cli import main
heavy = set(json.loads(sys.argv[2]))
sys.argv = ["operator", *json.loads(sys.argv[1])]
try:
    code = main()
except SystemExit as stop:
    code = stop.code
print(json.dumps({"code": code, "heavy": sorted({m.split(".")[0] for m in sys.modules} & heavy)}))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ, COLUMNS="200")
    if SHARED_TIKTOKEN.is_dir():
        env["TIKTOKEN_CACHE_DIR"] = str(SHARED_TIKTOKEN)
    return env


def run_cli(*args: str) -> tuple[dict, str]:
    """(exit code and the heavy modules loaded, what was printed)"""
    r = subprocess.run([sys.executable, "-c", RUN_CLI, json.dumps(args), json.dumps(HEAVY)],
                       capture_output=True, text=True, env=_env(), timeout=120, stdin=subprocess.DEVNULL)
    *printed, last = r.stdout.splitlines()
    return json.loads(last), "\n".join(printed) + r.stderr


def test_version_loads_no_heavy_module() -> None:
    result, printed = run_cli("--version")
    assert result == {"code": 0, "heavy": []}
    assert printed.strip() == "operator-agent 0.1.0"


def test_help_lists_every_command_and_loads_no_heavy_module() -> None:
    result, printed = run_cli("--help")
    assert result == {"code": 0, "heavy": []}
    for name in [*cli.CORE_COMMANDS, *(n for names in cli.EXTENSION_COMMANDS.values() for n in names)]:
        assert f"\n    {name} " in printed


@pytest.mark.parametrize(("args", "not_loaded"), [
    (["run", "--help"], ["playwright", "openai", "tiktoken", "numpy", "cv2", "PIL"]),
    (["mcp", "--help"], ["playwright", "openai", "tiktoken", "numpy", "cv2", "PIL"]),
    (["report", "--help"], list(HEAVY)),
    (["observe", "--help"], list(HEAVY)),
    (["sites", "--help"], list(HEAVY)),
    # Their packages load a submodule on first use: the help needs none of the store, the
    # recorder or the model client.
    (["prefs", "--help"], ["playwright", "openai", "tiktoken", "numpy", "cv2", "PIL"]),
    (["skill", "--help"], ["openai", "tiktoken", "numpy", "cv2", "PIL"]),
    (["record", "--help"], ["openai", "tiktoken", "numpy", "cv2", "PIL"]),
    # Needs a browser probe (playwright), and says whether counts are exact without loading tiktoken.
    (["doctor"], ["openai", "tiktoken", "numpy", "cv2", "PIL"]),
])
def test_a_command_loads_only_what_it_needs(args: list[str], not_loaded: list[str]) -> None:
    result, printed = run_cli(*args)
    assert result["code"] in (0, 2), printed  # doctor: 2 when no browser is found
    assert set(result["heavy"]) & set(not_loaded) == set(), printed
    if args == ["doctor"]:
        assert "token counts: " in printed


def _listed(parser: argparse.ArgumentParser) -> list[tuple[str, str | None]]:
    """The subcommands in --help's order, with their help lines."""
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return [(a.dest, a.help) for a in sub._choices_actions]


def test_the_index_of_extension_commands_matches_their_modules() -> None:
    # The lazy listing is a copy of what each module adds: a new or reworded command must be copied.
    full = cli.build_parser()
    assert _listed(cli.build_parser([])) == _listed(full)
    assert list(cli.EXTENSION_COMMANDS) == cli.EXTENSIONS
    for module, listed in cli.EXTENSION_COMMANDS.items():
        parser = argparse.ArgumentParser()
        __import__(module, fromlist=["add_commands"]).add_commands(parser.add_subparsers())
        assert _listed(parser) == list(listed.items()), module


@pytest.mark.parametrize("argv", [
    ["run", "a task", "--max-cost", "$0.50", "--allow-domain", "a.example", "--model", "m"],
    ["demo", "--headed"], ["observe", "example.com", "--json"], ["report", "last"], ["doctor"],
    ["audit", "--json"], ["vault", "list"], ["sites", "serve", "--seed", "3"], ["prefs", "list", "--all"],
    ["record", "r", "--url", "u"], ["learn", "r"], ["skill", "run", "s", "a=1"], ["eval", "list"],
    ["mcp", "--http", "--port", "0", "--ask-on", "none", "--max-purchase", "20"],
])
def test_a_command_parses_as_with_every_parser_built(argv: list[str]) -> None:
    lazy = cli.build_parser(cli._command_in(argv)).parse_args(argv)
    assert vars(lazy) == vars(cli.build_parser().parse_args(argv))


def test_a_module_missing_from_the_index_is_still_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    index = dict(cli.EXTENSION_COMMANDS)
    del index["operator_agent.permissions.commands"]
    monkeypatch.setattr(cli, "EXTENSION_COMMANDS", index)
    args = cli.build_parser(["report"]).parse_args(["audit", "--limit", "3"])
    assert args.limit == 3 and args.handler is not None


def test_a_bad_command_is_one_line_naming_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["bogus"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("operator: error: argument command: invalid choice: 'bogus'")
    assert "'eval'" in err and len(err.strip().splitlines()) == 1


# --- the tokenizer ----------------------------------------------------------------------


needs_cache = pytest.mark.skipif(not SHARED_TIKTOKEN.is_dir(), reason="no tiktoken cache on this machine")

TOKENS = """
import json, sys
from operator_agent import tokens
available = tokens.tokenizer_available()
before = "tiktoken" in sys.modules
count = tokens.count_tokens("Add the USB-C cable to the cart")
import tiktoken
exact = len(tiktoken.get_encoding("o200k_base").encode("Add the USB-C cable to the cart"))
print(json.dumps([available, before, "tiktoken" in sys.modules, count, exact]))
"""


@needs_cache
def test_the_tokenizer_loads_on_the_first_count_and_counts_exactly() -> None:
    out = subprocess.run([sys.executable, "-c", TOKENS], capture_output=True, text=True, env=_env(),
                         check=True, timeout=120).stdout
    available, before, after, count, exact = json.loads(out)
    assert available and not before and after
    assert count == [exact, False]


def test_available_says_what_count_tokens_does(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from operator_agent import tokens

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))  # an empty cache
    tokens._encoding.cache_clear()
    try:
        assert not tokenizer_available()
        assert count_tokens("hello there") == (3, True)
        if SHARED_TIKTOKEN.is_dir():
            monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(SHARED_TIKTOKEN))
            tokens._encoding.cache_clear()
            assert tokenizer_available()
            assert count_tokens("hello there")[1] is False
    finally:
        tokens._encoding.cache_clear()  # counts in later tests use the environment's cache again
