"""`operator audit` and `operator vault ...`, and the policy flags of `run`."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from ..protocols import ConfigError

KINDS = ("payment", "sensitive_site", "ask_first", "account_change", "deletion", "message")


def add_policy_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("permissions (override the policy file for this run)")
    g.add_argument("--policy", metavar="FILE", help="policy file (default: $OPERATOR_POLICY or "
                   "~/.config/operator-agent/policy.toml, written with documented defaults on first run)")
    g.add_argument("--allow-domain", action="append", metavar="HOST",
                   help="may be repeated; *.x.com for subdomains")
    g.add_argument("--deny-domain", action="append", metavar="HOST")
    g.add_argument("--ask-domain", action="append", metavar="HOST")
    g.add_argument("--allow-uploads", action="append", metavar="DIR",
                   help="files in this folder may be uploaded without asking (repeatable)")
    g.add_argument("--allow-app", action="append", metavar="NAME",
                   help="a program the agent may start on the desktop without asking (repeatable)")
    g.add_argument("--deny-app", action="append", metavar="NAME",
                   help="a program the agent must never start (repeatable)")
    g.add_argument("--allow-only", action="store_true", default=None, help="deny every host not allowed")
    g.add_argument("--max-purchase", type=float, metavar="AMOUNT")
    g.add_argument("--max-daily", type=float, metavar="AMOUNT")
    g.add_argument("--currency", metavar="CODE")
    g.add_argument("--without-asking", action="append", choices=KINDS, metavar="KIND",
                   help=f"what may run without asking when nobody can answer: {', '.join(KINDS)}")


def policy_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {"allow_domains": args.allow_domain, "deny_domains": args.deny_domain,
            "ask_domains": args.ask_domain, "allow_uploads": args.allow_uploads,
            "allow_apps": args.allow_app, "deny_apps": args.deny_app,
            "allow_only": args.allow_only,
            "max_purchase": args.max_purchase, "max_daily": args.max_daily, "currency": args.currency,
            "without_asking": args.without_asking}


def add_commands(sub: Any) -> None:
    audit = sub.add_parser("audit", help="list the permission decisions of past runs")
    audit.add_argument("--run", metavar="RUN_ID", help="only this run (its folder name)")
    audit.add_argument("--decision", choices=("allow", "ask", "deny"))
    audit.add_argument("--since", metavar="ISO_TIME", help="e.g. 2026-11-21 or 2026-11-21T10:00")
    audit.add_argument("--limit", type=int, default=200)
    audit.add_argument("--json", action="store_true")
    audit.set_defaults(handler=cmd_audit)

    vault = sub.add_parser("vault", help="secrets the agent may type, bound to the sites they belong to")
    vsub = vault.add_subparsers(dest="vault_command", required=True)
    for kind in ("password", "card", "totp"):
        p = vsub.add_parser(f"add-{kind}", help=f"add a {kind}; its value is asked for, never a flag")
        p.add_argument("name", help="lower-case name the model writes as {{secret:NAME}}")
        p.add_argument("--origin", action="append", required=True, metavar="URL",
                       help="where it may be typed, e.g. https://shop.example (repeatable)")
        p.add_argument("--description", default="")
        p.set_defaults(handler=cmd_vault, kind=kind)
    lst = vsub.add_parser("list", help="names, kinds and origins (never values)")
    lst.set_defaults(handler=cmd_vault, kind="list")
    rm = vsub.add_parser("remove")
    rm.add_argument("name")
    rm.set_defaults(handler=cmd_vault, kind="remove")


async def cmd_audit(args: argparse.Namespace) -> int:
    from .audit import format_entries, list_entries

    entries = list_entries(run_id=args.run, decision=args.decision, since=args.since, limit=args.limit)
    if args.json:
        print(json.dumps([e.__dict__ for e in entries], indent=1))
    else:
        print("\n".join(format_entries(entries)) if entries else "no decisions recorded yet")
    return 0


def _ask_secret(prompt: str) -> str:
    # Piped in or typed at a hidden prompt: never a flag, so never in the shell history.
    value = getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if not value:
        raise ConfigError(f"no value given for {prompt.strip(': ')}")
    return value


async def cmd_vault(args: argparse.Namespace) -> int:
    from .vault import Vault

    vault = Vault.open()
    if args.kind == "list":
        print(json.dumps(vault.describe(), indent=1))
    elif args.kind == "remove":
        vault.remove(args.name)
    elif args.kind == "password":
        vault.add_password(args.name, _ask_secret("password: "), origins=args.origin,
                           description=args.description)
    elif args.kind == "totp":
        vault.add_totp(args.name, _ask_secret("one-time-code seed (base32): "), origins=args.origin,
                       description=args.description)
    else:
        number = _ask_secret("card number: ")
        exp = _ask_secret("expiry (MM/YY): ")
        cvc = _ask_secret("CVC: ")
        month, _, year = exp.partition("/")
        vault.add_card(args.name, number=number, exp_month=month, exp_year=year, cvc=cvc,
                       origins=args.origin, description=args.description)
    if args.kind not in ("list",):
        print(f"vault: {args.kind} {getattr(args, 'name', '')} done")
    return 0
