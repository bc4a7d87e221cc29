"""The bundled demo: a two-page sign-up on 127.0.0.1 with a promo widget served
from another site (localhost), so the agent meets a cross-origin iframe and a
shadow-root button. Submissions are kept server-side for checking."""

from __future__ import annotations

import hashlib
import json
import threading

from operator_agent.localserver import LocalServer, Request, Response
from operator_agent.package_data import package_dir

PLANS = {"free": 0.0, "pro": 12.0, "team": 49.0}
PROMOS = {"SPRING": 0.20}


class DemoSite:
    """`with DemoSite() as site: site.url` — both servers on free loopback ports."""

    def __init__(self) -> None:
        root = package_dir("operator_bench.demo", "pages")
        self.signups: list[dict[str, object]] = []
        self._lock = threading.Lock()
        self.partner = LocalServer(root, host="localhost")
        self.main = LocalServer(root, routes={
            "/api/config": lambda r: Response.json({"partner_origin": self.partner.origin}),
            "/api/signup": self._signup,
            "/api/state": lambda r: Response.json({"signups": self.state()}),
        })

    @property
    def url(self) -> str:
        return self.main.url("/")

    def state(self) -> list[dict[str, object]]:
        with self._lock:
            return [dict(s) for s in self.signups]

    def _signup(self, req: Request) -> Response:
        if req.method != "POST":
            return Response.json({"error": "use POST"}, 405)
        try:
            data = json.loads(req.body or b"{}")
        except ValueError:
            return Response.json({"error": "invalid request"}, 400)
        name, email = str(data.get("name") or "").strip(), str(data.get("email") or "").strip()
        plan, promo = str(data.get("plan") or ""), str(data.get("promo") or "").strip().upper()
        if not name or "@" not in email:
            return Response.json({"error": "Please go back and enter your name and a valid email."}, 422)
        if plan not in PLANS:
            return Response.json({"error": "Unknown plan."}, 422)
        if promo and promo not in PROMOS:
            return Response.json({"error": f"Promo code {promo} is not valid."}, 422)
        total = round(PLANS[plan] * (1 - PROMOS.get(promo, 0.0)), 2)
        digest = hashlib.sha1(f"{name}|{email}|{plan}".encode()).hexdigest()
        confirmation = f"ACME-{int(digest[:8], 16) % 10000:04d}"
        with self._lock:
            self.signups.append({"name": name, "email": email, "plan": plan, "promo": promo or None,
                                 "total": total, "confirmation": confirmation})
        return Response.json({"confirmation": confirmation, "total": f"${total:.2f}"})

    def start(self) -> DemoSite:
        self.partner.start()
        self.main.start()
        return self

    def stop(self) -> None:
        self.main.stop()
        self.partner.stop()

    def __enter__(self) -> DemoSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
