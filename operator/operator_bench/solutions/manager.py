"""Scripted replies for a manager and its workers on the practice sites (tests/test_manager.py
and benchmarks/manager.py): one callable for the fake OpenAI-compatible server that answers
each request the way a model would, by reading it: the manager's plan, check and answer
calls by the structured output they ask for, each worker's steps by its task and the page
it is shown (the shop and flight solutions).

The fare finder answers without the price until the manager sends its result back (the
manager's check then passes it); a shopper stopped by the permission layer ends saying so.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Callable
from typing import Any

from ..testing.script import user_text
from .flights import book, offers
from .page import done, elements, step
from .shop import shop, split_prompt

Reply = dict[str, Any]
SENT_BACK = "THE MANAGER SENT YOUR LAST RESULT BACK"  # operator_agent.manager.manager.SENT_BACK


def schema_of(body: dict[str, Any]) -> str:
    """Which call a request is: the structured output it asks for (decision, verification,
    plan, worker_check, final_answer)."""
    return str(((body.get("response_format") or {}).get("json_schema") or {}).get("name", ""))


class ManagerScript:
    """The fake model's replies (thread-safe: the fake server answers workers in parallel).
    `workers`: a step function per word that names the worker's sub-task in its task.
    `meet_at`: the workers' steps whose reply holds these words (or "first step") wait for
    each other once, so they are taken at the same moment (workers run one at a time would
    wait in vain: the barrier breaks after 60 s)."""

    def __init__(self, plan: Reply, workers: dict[str, Callable[[str], Reply]], *,
                 meet_at: str | None = None) -> None:
        self.plan, self.workers, self.meet_at = plan, workers, meet_at
        self.checks: list[str] = []
        self.finals: list[str] = []
        self.barrier = threading.Barrier(len(workers), timeout=60)
        self._met: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> Reply:
        kind, text = schema_of(body), user_text(body)
        if kind == "plan":
            return self.plan
        if kind == "verification":  # a worker's own check of its final page
            return {"ok": True, "reason": "the page shows it"}
        if kind == "worker_check":
            with self._lock:
                self.checks.append(text)
            return {"ok": True, "reason": "it states what the spec asks, within the constraints"}
        if kind == "final_answer":
            with self._lock:
                self.finals.append(text)
            return final_answer(text)
        if kind != "decision":
            raise LookupError(f"no scripted reply for a {kind!r} request")
        task = text.split("PREVIOUS STEPS")[0]
        name = next(n for n in self.workers if n in task)
        reply = self.workers[name](text)
        if self.meet_at is not None and (self.meet_at == "first step" or self.meet_at in json.dumps(reply)):
            with self._lock:
                first = name not in self._met
                self._met.add(name)
            if first:
                self.barrier.wait()
        return reply


def final_answer(text: str) -> Reply:
    """The workers' answers, and the amounts they stated added up, as the manager's model is asked."""
    answers = [json.loads(a) for a in re.findall(r"worker's answer \(data, not instructions\): (\".*\")$",
                                                 text, re.M)]
    refused = re.findall(r"refused: (.*)$", text, re.M)
    amounts = [float(m.group(1).replace(",", "")) for a in answers
               if (m := re.search(r"\$([\d,]+\.\d\d)", a)) and "did not buy" not in a]
    total = f" Together: ${sum(amounts):,.2f}." if len(amounts) > 1 else ""
    said = " ".join(answers) + total + (f" Not done: {refused[0]}" if refused else "")
    return {"answer": said, "success": not refused}


def start_page(text: str) -> Reply | None:
    """A worker on a blank tab goes to the start page its task names."""
    page, _ = split_prompt(text)
    if re.search(r"^url: about:blank", page, re.M):
        url = re.search(r"Start page: (\S+)", text)
        if url is None:
            raise LookupError("no start page in the task")
        return step("Open the start page.", {"action": "navigate", "url": url.group(1)})
    return None


def shopper(query: str, title: str, max_price: float) -> Callable[[str], Reply]:
    """One worker's shopper (shop.shop, cheapest first); a payment the browser held back ends it."""
    memory: dict[str, Any] = {}  # the products it passed over

    def decide(text: str) -> Reply:
        _, errors = split_prompt(text)
        if "held back a payment" in errors:
            why = errors.strip().lstrip("- ")[:300]
            return step("The payment was stopped.", done(f"I did not buy it: {why}", success=False))
        return start_page(text) or shop(text, query=query, title=title, max_price=max_price, cheapest=True,
                                        memory=memory)

    return decide


def fare_finder(date_long: str) -> Callable[[str], Reply]:
    """The cheapest fare from New York to Lisbon on that day; its price only once sent back."""

    def decide(text: str) -> Reply:
        opened = start_page(text)
        if opened is not None:
            return opened
        page, _ = split_prompt(text)
        sort = next((e for e in elements(page) if e.role == "combobox" and e.name.startswith("Sort")), None)
        found = offers(page)
        if "/results?" in page and sort is not None and sort.name == "Sort by Cheapest" and found:
            prices = [o.price for o in found if o.price != float("inf")]  # (a line broken by the layout)
            if not prices or prices != sorted(prices) or found[0].price != prices[0]:  # not re-sorted yet
                return step("The list is being sorted.", {"action": "wait", "seconds": 0.5})
            airline = found[0].text.split("·")[0].strip()
            if SENT_BACK not in text:
                return step("The first is the cheapest.",
                            done(f"The cheapest Economy Light fare is on {airline}."))
            price = f"${found[0].price:,.2f}"
            return step("Say the price too.",
                        done(f"The cheapest Economy Light fare is {price} per person, on {airline}."))
        return book(text, origin="New York", destination="Lisbon", date=date_long, cheapest=True, seat=None)

    return decide


def subtask(ident: str, label: str, task: str, url: str, facts: list[tuple[str, str]],
            constraints: list[str]) -> Reply:
    return {"id": ident, "label": label, "task": task, "start_url": url,
            "spec": {"must_state": [{"name": n, "kind": k} for n, k in facts], "constraints": constraints}}


Workers = dict[str, Callable[[str], Reply]]


def cable_and_fare(shop_url: str, flights_url: str, day: dt.date) -> tuple[Reply, Workers]:
    """The plan and workers of "buy a USB-C cable under $15 and find the cheapest fare to Lisbon"."""
    date_long = f"{day:%A}, {day.day} {day:%B %Y}"  # as the flight site's calendar names the day
    plan = {"reasoning": "A purchase and a fare search are independent.", "subtasks": [
        subtask("usb-c", "USB-C cable", "Buy the cheapest in-stock USB-C cable under $15 at Brightcart.",
                shop_url, [("order total", "money"), ("order number", "text")], ["under $15", "in stock"]),
        subtask("lisbon", "Lisbon fare", f"Find the cheapest Economy Light fare from New York to Lisbon on "
                f"{date_long} at Skyway. Do not book it.", flights_url,
                [("fare per person", "money"), ("airline", "text")], ["Economy Light", "the cheapest"])]}
    return plan, {"USB-C": shopper("usb-c cable", "USB-C", 15), "Lisbon": fare_finder(date_long)}


def two_cables(shop_url: str) -> tuple[Reply, Workers]:
    """The plan and workers of "buy a USB-C cable under $15 and an HDMI cable under $20"."""
    plan = {"reasoning": "Two purchases.", "subtasks": [
        subtask("usb-c", "USB-C cable", "Buy the cheapest in-stock USB-C cable under $15 at Brightcart.",
                shop_url, [("order total", "money")], ["under $15"]),
        subtask("hdmi", "HDMI cable", "Buy the cheapest in-stock HDMI cable under $20 at Brightcart.",
                shop_url, [("order total", "money")], ["under $20"])]}
    return plan, {"USB-C": shopper("usb-c cable", "USB-C", 15), "HDMI": shopper("hdmi cable", "HDMI", 20)}
