"""`operator prefs add | list | forget | export | import | review`.

Registered through cli.EXTENSIONS: add_commands(subparsers) adds the parsers and
each sets handler=<async fn(args) -> exit code>. Bad input raises ConfigError
(one line, exit 2).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..protocols import ConfigError
from .db import ENV
from .model import POLARITIES, Preference, normalize_scope

if TYPE_CHECKING:  # the store, the learner and the model parser load with the command that runs
    from .store import PreferenceStore


def _say(text: str = "") -> None:
    print(text, flush=True)


def _line(p: Preference) -> str:
    extra = "" if p.status == "active" else f"  [{p.status}" + (
        f" by {p.superseded_by}]" if p.superseded_by else "]")
    conf = f"  confidence {p.confidence:.2f}" if p.source == "learned" else ""
    return f"{p.id:>5}  {p.text}  · {p.source}{conf}{extra}"


def open_store(args: argparse.Namespace) -> PreferenceStore:
    """--prefs-db, else $OPERATOR_PREFS_DB, else the user's data folder."""
    from .store import PreferenceStore

    path = getattr(args, "prefs_db", None)
    try:
        return PreferenceStore(Path(path).expanduser() if path else None)
    except OSError as exc:
        raise ConfigError(f"cannot open the preferences file: {exc} (set --prefs-db or {ENV})") from None


# --- handlers ---------------------------------------------------------------------


async def cmd_add(args: argparse.Namespace) -> int:
    sentence = " ".join(args.sentence).strip()
    if not sentence:
        raise ConfigError('say the preference, e.g. operator prefs add "I prefer aisle seats"')
    scope = None
    if args.scope:
        try:
            scope = normalize_scope(args.scope)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    from .model_parser import parse_sentence, resolve_model

    config = None if args.no_model else resolve_model(args.model, args.base_url, args.api_key)
    with open_store(args) as store:
        # The names the person used before tell the rules a brand from an airline.
        drafts, parsed_by = await parse_sentence(sentence, config, store.names())
        for d in drafts:
            if scope is not None:
                d = d.model_copy(update={"scope": scope})
            p = store.add(d, source="told", evidence=[f"told: {sentence}"])
            _say(_line(p))
            for old in store.superseded_by(p.id):
                _say(f"       replaces {old.id}: {old.text}")
    _say(f"(understood {'by the model' if parsed_by == 'model' else 'by the built-in rules'})")
    return 0


async def cmd_list(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        prefs = store.all() if args.all else store.preferences()
        if args.json:
            _say(json.dumps([p.model_dump(mode="json") for p in prefs], indent=2, ensure_ascii=False))
            return 0
        if not prefs:
            _say('no preferences yet: operator prefs add "I prefer aisle seats"')
        for p in prefs:
            _say(_line(p))
        pending = len(store.proposals())
        if pending and not args.all:
            _say(f"{pending} learned preference(s) waiting: operator prefs review")
    return 0


async def cmd_forget(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        for pref_id in args.ids:
            p = store.forget(pref_id)
            _say(f"forgot {p.id}: {p.text}")
    return 0


async def cmd_export(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        text = json.dumps(store.export_json(), indent=2, ensure_ascii=False)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        _say(f"wrote {args.out}")
    else:
        _say(text)
    return 0


async def cmd_import(args: argparse.Namespace) -> int:
    try:
        raw = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
        data: Any = json.loads(raw)
    except OSError as exc:
        raise ConfigError(f"cannot read {args.file}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"{args.file} is not JSON: {exc}") from None
    with open_store(args) as store:
        added = store.import_json(data)
        for p in added:
            _say(_line(p))
    _say(f"imported {len(added)} preference(s)")
    return 0


def _interactive(store: PreferenceStore, proposals: list[Preference]) -> None:
    for p in proposals:
        _say(_line(p))
        for ev in p.evidence[:5]:
            _say(f"       {ev}")
        answer = input("  [a]ccept, accept as [m]ust, [r]eject, [s]kip? ").strip().lower()
        if answer.startswith("a"):
            _say(f"  accepted: {store.accept(p.id).text}")
        elif answer.startswith("m"):
            _say(f"  accepted: {store.accept(p.id, 'must').text}")
        elif answer.startswith("r"):
            store.reject(p.id)
            _say("  rejected: it will not be proposed again")


async def cmd_review(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        if args.accept or args.reject:
            for pref_id in args.accept or []:
                p = store.accept(pref_id, args.as_)
                _say(f"accepted {p.id}: {p.text}")
                for old in store.superseded_by(p.id):
                    _say(f"       replaces {old.id}: {old.text}")
            for pref_id in args.reject or []:
                p = store.reject(pref_id)
                _say(f"rejected {p.id}: {p.text}")
            return 0
        from .learning import Learner

        learner = Learner(store)
        if not args.no_scan:
            learner.ingest_runs(Path(args.runs_dir) if args.runs_dir else None)
            learner.ingest_recordings(Path(args.recordings_dir) if args.recordings_dir else None)
        proposals = learner.propose()
        if not proposals:
            _say("nothing to review: no consistent choices learned yet")
            return 0
        if args.interactive or (args.interactive is None and sys.stdin.isatty()):
            _interactive(store, proposals)
            return 0
        for p in proposals:
            _say(_line(p))
            for ev in p.evidence[:5]:
                _say(f"       {ev}")
        _say("accept with: operator prefs review --accept ID [--as must]; reject with --reject ID")
    return 0


# --- parsers ----------------------------------------------------------------------


def _db_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prefs-db", metavar="FILE",
                   help=f"the preferences file (default: ${ENV}, else the user's data folder)")


def add_commands(subparsers: Any) -> None:
    prefs = subparsers.add_parser("prefs", help="how you like things done: add, list, forget, review")
    sub = prefs.add_subparsers(dest="prefs_command", required=True)

    add = sub.add_parser("add", help='state a preference, e.g. "I prefer aisle seats"')
    add.add_argument("sentence", nargs="+", help="what you prefer, in plain words")
    add.add_argument("--scope", help="everywhere (default), site:HOST or category:flights|shopping")
    add.add_argument("--model", help="model name (default: $OPERATOR_MODEL)")
    add.add_argument("--base-url", help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL)")
    add.add_argument("--api-key", help="API key (default: $OPENAI_API_KEY)")
    add.add_argument("--no-model", action="store_true", help="use the built-in rules even with a model")
    _db_flag(add)
    add.set_defaults(handler=cmd_add)

    lst = sub.add_parser("list", help="the preferences in use")
    lst.add_argument("--all", action="store_true", help="also superseded, proposed and rejected ones")
    lst.add_argument("--json", action="store_true")
    _db_flag(lst)
    lst.set_defaults(handler=cmd_list)

    forget = sub.add_parser("forget", help="delete preferences by id")
    forget.add_argument("ids", nargs="+", metavar="ID")
    _db_flag(forget)
    forget.set_defaults(handler=cmd_forget)

    exp = sub.add_parser("export", help="all preferences as JSON")
    exp.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    _db_flag(exp)
    exp.set_defaults(handler=cmd_export)

    imp = sub.add_parser("import", help="add the preferences of an export")
    imp.add_argument("file", help='a JSON export, or "-" for standard input')
    _db_flag(imp)
    imp.set_defaults(handler=cmd_import)

    rev = sub.add_parser("review", help="preferences learned from your choices: accept or reject them")
    rev.add_argument("--accept", action="append", metavar="ID")
    rev.add_argument("--reject", action="append", metavar="ID")
    rev.add_argument("--as", dest="as_", choices=POLARITIES, help="accept with this polarity (e.g. must)")
    rev.add_argument("--runs-dir", metavar="DIR", help="where run folders are read from (default: ./runs)")
    rev.add_argument("--recordings-dir", metavar="DIR",
                     help="where recordings are read from (default: ./recordings)")
    rev.add_argument("--no-scan", action="store_true", help="do not read new runs and recordings first")
    rev.add_argument("--interactive", action=argparse.BooleanOptionalAction, default=None,
                     help="ask about each proposal (default: when run in a terminal)")
    _db_flag(rev)
    rev.set_defaults(handler=cmd_review)
