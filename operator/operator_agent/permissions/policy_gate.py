"""The policy gate: every action is checked here before it reaches a page.

It composes the detectors (navigation, sensitive sites, secrets, payments,
account changes, programs started on the desktop) into one Verdict. Denials win
over questions; questions the person pre-approved by kind (policy [approval]
without_asking) are answered here; in a non-interactive run any other question
is a denial. The checks are pure Python over the observation; the only I/O is
the audit insert (and the spending ledger when a purchase is approved; for a
program, reading which programs are installed).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch
from typing import Any

from ..actions import gate_class
from ..redaction import REDACTED
from ..types import (
    Action,
    Click,
    Element,
    Navigate,
    Observation,
    OpenApp,
    Select,
    Type,
    TypeAt,
    Upload,
    Verdict,
)
from . import apps, uploads
from .approvals import (
    ApprovalBook,
    Grant,
    approval_hash,
    check_limits,
    purchase_hash,
    purchase_summary,
    summary_text,
)
from .audit import AuditLog
from .detectors import account, payment, points
from .detectors.elements import clean_text, frame_url, host_of, origin_of
from .detectors.navigation import NavCheck, NavigationChecker, link_target
from .detectors.secrets import action_texts, literal_secret
from .detectors.sites import SensitiveSites
from .detectors.windows import element_window, is_desktop, target_windows, title_of
from .hosts import clean, match_any, scheme_of
from .ledger import SpendLedger
from .payment_wire import PaymentWire
from .placeholders import has_placeholder
from .policy import Policy, shipped_sites
from .vault import Vault, VaultError

_NOT_A_SITE = ("about:", "chrome-error:")  # arrival pages with nothing on them
_DESKTOP = "desktop://"  # desktop observations: windows, not web pages


@dataclass
class _Need:
    grant: Grant
    reason: str
    lines: list[str]
    not_covered: str = ""  # why [approval] without_asking cannot grant it ("": it can)


@dataclass
class _Findings:
    denials: list[str] = field(default_factory=list)
    needs: list[_Need] = field(default_factory=list)
    # purchase approvals used up if allowed (they then hold the request that pays to them)
    consume: list[tuple[str, payment.PaymentInfo]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why an allowed action is allowed (the audit log)


class PolicyGate:
    """protocols.Gate over a Policy. Call `record_answer(verdict, approved)` after
    asking a person, and `check_arrival(url)` with the page's URL after each action."""

    def __init__(self, policy: Policy, *, vault: Vault | None = None, audit: AuditLog | None = None,
                 approvals: ApprovalBook | None = None, ledger: SpendLedger | None = None,
                 interactive: bool) -> None:
        self.policy = policy
        self.vault = vault
        self.audit = audit
        if audit is not None and vault is not None:
            for value in vault.values():  # never in the log, in any encoding, whatever the entry
                audit.redactor.add(value)
        self.book = approvals or ApprovalBook()
        if ledger is None:
            ledger = SpendLedger(audit.path if audit else ":memory:", run_id=audit.run_id if audit else "")
        self.ledger = ledger
        self.interactive = interactive
        _, shipped_frames = shipped_sites()
        self.frame_hosts = (*shipped_frames, *policy.payment_frames)
        protected = [p.host for p in self.frame_hosts]
        if vault is not None:
            protected += [host_of(o) for name in vault.names() for o in vault.origins(name)]
        # The request that pays is held to the approval at the network (a browser's guard
        # attaches it); until one does, approvals count as spending when granted.
        self.payments = PaymentWire(policy, ledger=ledger, book=self.book, audit=audit,
                                    interactive=interactive, frame_hosts=self.frame_hosts)
        self.sites = SensitiveSites.from_policy(policy)
        self.nav = NavigationChecker(policy, self.sites, protected=protected)
        self._pending: dict[str, list[Grant]] = {}
        self._facts: tuple[Observation, payment.PageFacts] | None = None

    # --- the Gate protocol -----------------------------------------------------------

    async def check(self, action: Action, observation: Observation) -> Verdict:
        self.payments.expire()  # a purchase approval holds for the action it was given for
        found = _Findings()
        # The desktop judges a point by the window under it (detectors/windows.py).
        targets = None if observation.url.startswith(_DESKTOP) else points.resolve(action, observation)
        if targets is None:
            self._detect(action, observation, found)
            if isinstance(action, TypeAt):  # the desktop: its fields under the point
                self._typed_at_secret(action, points.elements_at(observation, action.x, action.y), found)
        else:
            self._at_points(action, observation, targets, found)
        verdict, key = self._settle(found)
        self._log("check", verdict, key, action=action, obs=observation)
        return verdict

    def check_arrival(self, url: str) -> Verdict:
        """The page the browser is on now (after redirects, meta refresh, a new tab):
        deny means leave it; ask means the person must approve staying."""
        found = _Findings()
        if not url.startswith((*_NOT_A_SITE, _DESKTOP)):
            self._add_nav(self.nav.check_url(url, typed=False), found, prefix="arrived at ")
        verdict, key = self._settle(found)
        self._log("arrival", verdict, key, url=url)
        return verdict

    @property
    def filters_requests(self) -> bool:
        """Whether any request could be refused (else the browser need not pay for a filter)."""
        return bool(self.policy.deny or self.policy.allow_only or self.policy.allow)

    def check_request(self, url: str) -> Verdict:
        """A request the page makes by itself (redirect, window.open, meta refresh, form post,
        subresource, WebSocket): a denied host is never contacted. Ask-first hosts are left
        to check_arrival, which asks once the page is there. The scheme is read as the
        browser reads it (case, outer spaces and controls, inner tabs and newlines)."""
        scheme = scheme_of(url)
        if scheme not in ("http", "https", "ws", "wss"):
            return Verdict(decision="allow")  # data:, blob:, about: ... never leave the browser
        target = clean(url)
        if scheme in ("ws", "wss"):  # a WebSocket's host is judged as the page's would be
            target = "http" + target[len("ws"):] if scheme == "ws" else "https" + target[len("wss"):]
        nav = self.nav.check_url(target, typed=False)
        if nav.decision != "deny":
            return Verdict(decision="allow")
        verdict = Verdict(decision="deny", reason=f"request to {url[:200]} blocked: {nav.reason}")
        self._log("request", verdict, "", url=url)
        return verdict

    def record_answer(self, verdict: Verdict, approved: bool) -> None:
        """The person's answer to an "ask" verdict: a yes grants what was summarized
        (and records the purchase against the daily limit)."""
        grants = self._pending.pop(verdict.summary, [])
        if approved:
            for grant in grants:
                self._grant(grant)
        key = approval_hash(*sorted(g.key for g in grants)) if grants else ""
        decided = Verdict(decision="allow" if approved else "deny", reason=verdict.reason,
                          summary=verdict.summary)
        self._log("answer", decided, key, answer="yes" if approved else "no")

    # --- detectors ---------------------------------------------------------------------

    def _detect(self, action: Action, observation: Observation, found: _Findings) -> None:
        """Every detector that applies to this action, by how the registry classes it."""
        self._secrets(action, observation, found)
        self._navigation(action, observation, found)
        if isinstance(action, Upload):
            self._upload(action, found)
        if gate_class(action) == "launches" and isinstance(action, OpenApp):
            self._launch(action, observation, found)
        if gate_class(action) == "changes":
            self._page(action, observation, found)
            self._payment(action, observation, found)
            self._account(action, observation, found)

    def _at_points(self, action: Action, obs: Observation, targets: points.PointTargets,
                   found: _Findings) -> None:
        """A pixel action in a browser is checked as the same action on each element under
        its points (a click_at on "Pay" is a click on "Pay"); a point over nothing listed
        is an unknown target, which a page that takes payment must ask about."""
        self._secrets(action, obs, found)  # stored values written out; placeholders are refused
        for same in targets.actions:
            self._detect(same, targets.observation, found)
        self._typed_at_secret(action, targets.elements, found)
        if targets.unknown:
            self._page(action, obs, found)
            self._unknown_target(action, obs, targets.unknown, found)

    @staticmethod
    def _typed_at_secret(action: Action, under: Sequence[Element], found: _Findings) -> None:
        if isinstance(action, TypeAt):
            secret = next((e for e in under if _secret_field(e)), None)
            if secret is not None:  # only a Type by index fills and hides what goes there
                found.denials.append(f"[{secret.index}] at ({action.x}, {action.y}) is a password or card "
                                     "field: type into it with type and its index")

    def _unknown_target(self, action: Action, obs: Observation, where: tuple[points.Point, ...],
                        found: _Findings) -> None:
        facts = self._page_facts(obs)
        if not (facts.card_frames or facts.payment_frames or facts.pay_controls or facts.checkout):
            return  # nothing here could be paid with or for
        spots = ", ".join(f"({x}, {y})" for x, y in where)
        host = host_of(obs.url) or obs.url[:80]
        why = ("no listed element is there, so what it hits cannot be checked, on a page that takes "
               "payment (card fields, a payment frame or a pay button)")
        lines = [f"{action.action} at {spots} on {host}", f"  why asked: {why}", "  covers: this action only"]
        grant = Grant(approval_hash("point", obs.url, action.model_dump_json()), "payment",
                      f"{action.action} at {spots} on {host}", remember=False)
        reason = f"{action.action} at {spots} hits no listed element on a page that takes payment"
        found.needs.append(_Need(grant, f"{reason}: needs your approval", lines,
                                 not_covered="what is under that point cannot be checked"))

    def _secrets(self, action: Action, obs: Observation, found: _Findings) -> None:
        if self.vault is not None:
            name = literal_secret(action, self.vault.literal_values())
            if name is not None:
                found.denials.append(f"the action contains the stored value of secret {name!r}; the model "
                                     "must write its placeholder instead")
                return
        if not any(has_placeholder(t) for t in action_texts(action)):
            return
        # Filled in only by a Type; shown as written to the person (ask_user, done).
        if not isinstance(action, Type) and gate_class(action) != "speaks":
            hint = ": type into the field with type and its index" if isinstance(action, TypeAt) else ""
            found.denials.append(f"secret placeholders are only filled in when typed into a field, "
                                 f"not in {action.action}{hint}")
            return
        if not isinstance(action, Type):
            return  # shown as written, never filled in
        el = obs.element(action.index)
        if el is None:
            found.denials.append(f"there is no element [{action.index}] to type a secret into")
            return
        if self.vault is None:
            found.denials.append("no vault is set up, so secret placeholders cannot be filled in")
            return
        # Desktop: the window the field is in, not whichever window has the focus.
        where = element_window(obs, action.index) if is_desktop(obs) else origin_of(frame_url(el, obs))
        try:
            refs = self.vault.check(action.text, where)
        except VaultError as exc:
            found.denials.append(str(exc))
            return
        facts = self._page_facts(obs)
        secret_field = _secret_field(el) or el.frame in facts.payment_frames
        if not secret_field and any(r.field != "totp" for r in refs):
            found.denials.append(f"[{el.index}] is not a password, card or one-time-code field: a secret "
                                 "typed there would show on the page")

    def _navigation(self, action: Action, obs: Observation, found: _Findings) -> None:
        if isinstance(action, Navigate):
            self._add_nav(self.nav.check_url(action.url), found, prefix="")
        elif isinstance(action, Click):
            el = obs.element(action.index)
            target = link_target(el, obs) if el is not None else None
            if target is not None:
                self._add_nav(self.nav.check_url(target, typed=False), found, prefix="the link goes to ")

    def _upload(self, action: Upload, found: _Findings) -> None:
        """A local file leaves the machine: only from an allowed folder, else asked
        (refused with nobody to ask); never from where keys and our own files live."""
        if has_placeholder(action.path):
            return  # _secrets refuses it
        check = uploads.check_upload(action.path, self.policy.upload_folders)
        if check.decision == "deny":
            found.denials.append(check.reason)
        elif check.decision == "ask":
            if not self.interactive:  # [approval] without_asking has no upload kind: say what does
                found.denials.append("files are uploaded only from folders allowed in the policy ([uploads] "
                                     "allow_folders, or --allow-uploads DIR) and nobody can approve another "
                                     f"in this non-interactive run: {check.reason}")
                return
            key = approval_hash("upload", str(check.path))
            lines = [f"Upload the file {check.path} to the page", f"  why asked: {check.reason}",
                     "  covers: this file for the rest of this run"]
            grant = Grant(key, "upload", f"upload {check.path}")
            found.needs.append(_Need(grant, f"{check.reason}: needs your approval", lines))

    def _launch(self, action: OpenApp, obs: Observation, found: _Findings) -> None:
        """Starting a program: without asking only one the policy allows; never one it denies,
        nor with a file where keys or the agent's own files live; else asked (refused with
        nobody to ask), the approval bound to the exact argv that runs."""
        if not is_desktop(obs):
            found.denials.append("programs are started only on the desktop (operator run --desktop)")
            return
        if any(has_placeholder(t) for t in action_texts(action)):
            return  # _secrets refuses it
        check = apps.check_launch(action, self.policy)
        program = check.program
        if check.decision == "deny" or program is None:
            found.denials.append(check.reason)
            return
        if check.decision == "allow":
            found.notes.append(check.reason)
            return
        key = approval_hash("launch", list(program.argv))
        if not self.interactive and not self.book.is_granted(key):
            # Short enough for the model to read whole (and tell the person what would allow it).
            found.denials.append(
                f"starting {program.describe()} needs your approval, and nobody can give it in this "
                f"non-interactive run (allow it with --allow-app {program.command} or [desktop] allow_apps "
                "in the policy)")
            return
        file = " with this file" if program.file is not None else ""
        lines = [apps.opening(program), f"  runs: {shlex.join(program.argv)}", f"  why asked: {check.reason}",
                 f"  covers: starting it{file} for the rest of this run"]
        grant = Grant(key, "launch", f"start {program.label}{file}")
        found.needs.append(_Need(grant, f"{check.reason}: needs your approval", lines))

    def _page(self, action: Action, obs: Observation, found: _Findings) -> None:
        """Acting on a page is checked like entering it (it may have been reached by a
        redirect); an iframe's host only against the deny list."""
        if obs.url.startswith(_DESKTOP):
            for url in target_windows(action, obs):
                self._window(title_of(url), found)
            return
        if not obs.url.startswith(_NOT_A_SITE):
            self._add_nav(self.nav.check_url(obs.url, typed=False), found, prefix="acting on ")
        el = obs.element(action.index) if isinstance(action, Click | Type | Select | Upload) else None
        if el is not None and el.frame:
            denied = match_any(self.policy.deny, host_of(el.frame))
            if denied is not None:
                found.denials.append(f"the element is in a frame of {host_of(el.frame)}, denied by the "
                                     f"policy ({denied})")

    def _window(self, title: str, found: _Findings) -> None:
        """Desktop: acting on a window listed as sensitive (by title), focused or not,
        asks once per window per run."""
        hit = next((p for p in self.policy.sensitive_windows if fnmatch(title.lower(), p.lower())), None)
        if hit is None:
            return
        key = approval_hash("sensitive_site", "window", title)
        if self.book.is_granted(key) or any(n.grant.key == key for n in found.needs):
            return
        lines = [f"Act on the window {title!r}", f"  why asked: its title matches {hit!r} "
                 "([desktop] sensitive_windows)", "  covers: this window for the rest of this run"]
        grant = Grant(key, "sensitive_site", f"use the window {title!r}")
        found.needs.append(_Need(grant, f"acting on the sensitive window {title!r}: needs your approval",
                                 lines))

    def _payment(self, action: Action, obs: Observation, found: _Findings) -> None:
        info = payment.detect(action, obs, self._page_facts(obs), dollar=self._dollar())
        if info is None:
            return
        key = purchase_hash(info)
        spent = self.ledger.committed_today(self.policy.currency, excluding=self.book.entry(key))
        limits = check_limits(info, self.policy, spent)
        if limits.status == "over":
            found.denials.append(f"purchase refused: {limits.reason}")
        elif self.book.is_granted(key):
            if info.stage == "submit":
                found.consume.append((key, info))
        else:
            label = f"purchase at {info.merchant}: {limits.reason}"
            grant = Grant(key, "payment", label, purchase=info, remember=info.stage == "details")
            not_covered = "" if limits.status == "ok" else self._not_covered(info)
            lines = purchase_summary(info, limits)
            if not_covered and "payment" in self.policy.without_asking:
                lines.append(f"  not pre-approved: {not_covered}")  # the person expects it not to ask
            found.needs.append(_Need(grant, f"a purchase needs your approval ({info.why})", lines,
                                     not_covered=not_covered))

    def _not_covered(self, info: payment.PaymentInfo) -> str:
        """Why [approval] without_asking cannot pre-approve this purchase: its amount cannot
        be checked against the spending limits."""
        if info.money is None:
            return f"its amount could not be read from the page ({info.amount_note or 'no total shown'})"
        return f"its amount, {info.money}, is not in {self.policy.currency}, the spending limits' currency"

    def _account(self, action: Action, obs: Observation, found: _Findings) -> None:
        change = account.detect(action, obs)
        if change is None:
            return
        key = approval_hash("account", change.fingerprint)
        where = host_of(obs.url) or obs.url[:80]
        lines = [f"{change.what.capitalize()} on {where}", f"  why asked: {change.why}"]
        grant = Grant(key, change.kind, f"{change.what} on {where}", remember=False)
        found.needs.append(_Need(grant, f"{change.what} needs your approval ({change.why})", lines))

    def _add_nav(self, nav: NavCheck, found: _Findings, *, prefix: str) -> None:
        if nav.decision == "deny":
            found.denials.append(prefix + nav.reason)
        elif nav.decision == "ask":
            key = approval_hash(nav.kind, nav.grant)
            if self.book.is_granted(key) or any(n.grant.key == key for n in found.needs):
                return
            what = "sensitive site" if nav.kind == "sensitive_site" else "ask-first site"
            lines = [f"Use the {what} {nav.host}" + (f" ({nav.category})" if nav.category else ""),
                     f"  covers: {nav.grant} for the rest of this run", f"  why asked: {prefix}{nav.reason}"]
            grant = Grant(key, nav.kind, f"use {nav.grant}")
            found.needs.append(_Need(grant, f"{prefix}{nav.reason}: needs your approval", lines))

    # --- deciding ----------------------------------------------------------------------

    def _settle(self, found: _Findings) -> tuple[Verdict, str]:
        if found.denials:
            return Verdict(decision="deny", reason="; ".join(dict.fromkeys(found.denials))), ""
        earlier = [n for n in found.needs if self.book.is_granted(n.grant.key)]
        pending = [n for n in found.needs if n not in earlier]
        asks, auto = [], []
        for need in pending:
            if need.grant.kind in self.policy.without_asking and not need.not_covered:
                self._grant(need.grant)  # pre-approved by the person's policy
                auto.append(need)
            else:
                asks.append(need)
        if not asks:
            for key, info in found.consume:
                self.book.consume(key)
                self._authorize(key, info)
            if not found.needs:
                return Verdict(decision="allow", reason="; ".join(found.notes)), ""
            # Consequential but allowed: the audit log says why, with what was allowed.
            notes = [f"pre-approved by the policy ([approval] without_asking {n.grant.kind}): {n.reason}"
                     for n in auto] + [f"approved earlier in this run: {n.reason}" for n in earlier]
            key = approval_hash(*sorted(n.grant.key for n in found.needs))
            summary = summary_text([n.lines for n in auto + earlier], key)
            return Verdict(decision="allow", reason="; ".join(notes), summary=summary), key
        reason = "; ".join(n.reason for n in asks)
        key = approval_hash(*sorted(n.grant.key for n in asks))
        if not self.interactive:
            return Verdict(decision="deny", reason=self._unattended(asks)), key
        summary = summary_text([n.lines for n in asks], key)
        self._pending[summary] = [n.grant for n in asks]
        return Verdict(decision="ask", reason=reason, summary=summary), key

    def _unattended(self, asks: list[_Need]) -> str:
        """Why a question is a no with nobody to ask, and what would let it through: only
        advice that would work under this policy (never to set what is already set)."""
        parts = [n.reason for n in asks]
        manual = list(dict.fromkeys(n.not_covered for n in asks if n.not_covered))
        parts += [f"{why}, and [approval] without_asking cannot approve that (it covers only purchases "
                  "whose amount is checked against the spending limits)" for why in manual]
        text = "; ".join(parts) + "; nobody can approve it in this non-interactive run"
        kinds = sorted({n.grant.kind for n in asks} - self.policy.without_asking)
        if manual:
            return text + " (to go ahead, run it at a terminal and approve it when asked)"
        if kinds:
            shown = ", ".join(f'"{k}"' for k in kinds)
            return text + f" (to allow it unattended, add {shown} to [approval] without_asking in the policy)"
        return text

    def _grant(self, grant: Grant) -> None:
        entry = None
        info = grant.purchase
        if info is not None and self.payments.attached:
            if info.stage == "submit":  # this action pays: its request is held to the approval
                self._authorize(grant.key, info)  # (and the ledger counts what it sends)
        elif info is not None and info.amount is not None and info.currency is not None:
            entry = self.ledger.record(amount=info.amount, currency=info.currency, merchant=info.merchant,
                                       summary_hash=grant.key)
        if grant.remember:
            self.book.grant(grant.key, entry)

    def _authorize(self, key: str, info: payment.PaymentInfo) -> None:
        frames = self._facts[1].payment_frames if self._facts is not None else frozenset()
        self.payments.authorize(key, info, frozenset(host_of(f) for f in frames))

    def _page_facts(self, obs: Observation) -> payment.PageFacts:
        # The loop checks several actions against one observation: read the page once.
        if self._facts is None or self._facts[0] is not obs:
            self._facts = (obs, payment.page_facts(obs, self.frame_hosts))
            self.payments.learn_processors(frozenset(host_of(f) for f in self._facts[1].payment_frames))
        return self._facts[1]

    def _dollar(self) -> str:
        cur = self.policy.currency
        return cur if cur in ("USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN") else "USD"

    # --- audit -------------------------------------------------------------------------

    def _log(self, event: str, verdict: Verdict, key: str, *, action: Action | None = None,
             obs: Observation | None = None, url: str = "", answer: str | None = None) -> None:
        if self.audit is None:
            return
        self.audit.record(event=event, decision=verdict.decision, reason=clean_text(verdict.reason, 500),
                          summary=verdict.summary, summary_hash=key, answer=answer,
                          action=self._redacted(action, obs) if action is not None else None,
                          url=obs.url if obs is not None else url)

    def _redacted(self, action: Action, obs: Observation | None) -> dict[str, Any]:
        data = action.model_dump()
        if not isinstance(action, Type | TypeAt) or obs is None or has_placeholder(action.text):
            return data
        if isinstance(action, Type):
            el = obs.element(action.index)
            fields = [el] if el is not None else []
        else:
            fields = list(points.elements_at(obs, action.x, action.y))
        if any(_secret_field(e) for e in fields):
            data["text"] = REDACTED  # typed by hand into a secret field
            if self.audit is not None:  # nor where the page sends it next (a refused URL)
                self.audit.redactor.add(action.text)
        return data


def _secret_field(el: Element) -> bool:
    return el.sensitive or payment.is_card_field(el, near_card=True)
