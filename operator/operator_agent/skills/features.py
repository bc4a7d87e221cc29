"""More of each observed element, for finding a skill's elements again.

EnrichingPerceiver is the DomPerceiver plus one pass of describe.js (the same
code the recorder used) over the listed elements of every frame. What it finds
goes into `Element.attributes` under "oa:" keys (oa:name, oa:label, oa:testid,
oa:css, oa:context, oa:item, oa:item-text, oa:group...). The text the model reads
does not change: those keys are not serialized.
"""

from __future__ import annotations

import asyncio
import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from playwright.async_api import Frame, Page

from ..perception.browser import DomPerceiver
from ..protocols import ActionError
from ..types import Element, Observation, Screenshot

PREFIX = "oa:"
_STAMP = re.compile(r'data-oa="([^"]+)"')


@lru_cache(maxsize=1)
def features_source() -> str:
    describe = resources.files(__package__).joinpath("describe.js").read_text("utf-8")
    # Elements inside open shadow roots carry stamps too: visit every root.
    return ("(stamps) => {\n" + describe + """
  const describe = __oaMakeDescribe();
  const want = new Set(stamps);
  const out = {};
  const visit = (root) => {
    for (const el of root.querySelectorAll('[data-oa]')) {
      const s = el.getAttribute('data-oa');
      if (want.has(s)) { try { out[s] = describe(el); } catch (e) { /* a detached node */ } }
    }
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) visit(el.shadowRoot);
  };
  visit(document);
  return JSON.stringify(out);
}""")


def flatten(d: dict[str, Any]) -> dict[str, str]:
    """describe.js output as string attributes."""
    out = {f"{PREFIX}{k}": str(d[k]) for k in ("name", "label", "text", "testid", "css", "context", "secret")
           if d.get(k)}
    if d.get("classes"):
        out[PREFIX + "classes"] = " ".join(d["classes"])
    item = d.get("item") or {}
    if item.get("count", 0) >= 3:
        out.update({PREFIX + "item": item.get("sig", ""), PREFIX + "item-index": str(item.get("index", 0)),
                    PREFIX + "item-count": str(item["count"]), PREFIX + "item-text": item.get("text", "")})
    group = d.get("group") or {}
    if group:
        out[PREFIX + "group"] = f"{group.get('sig', '')}#{group.get('index', 0)}"
    if d.get("dialog"):
        out[PREFIX + "dialog"] = "1"
    return out


def features(el: Element) -> dict[str, str]:
    """An element's oa: attributes without the prefix ({} when not enriched)."""
    return {k[len(PREFIX):]: v for k, v in el.attributes.items() if k.startswith(PREFIX)}


class EnrichingPerceiver(DomPerceiver):
    async def observe(self, page: Page, *, screenshot: Screenshot = False) -> Observation:
        obs = await super().observe(page, screenshot=screenshot)
        await self.enrich(obs)
        return obs

    async def enrich(self, obs: Observation) -> None:
        frames: dict[int, tuple[Frame, dict[str, Element]]] = {}
        for el in obs.elements:
            try:
                target = self.target(el.index)
            except ActionError:
                continue
            m = _STAMP.search(target.selector)
            if m:
                frames.setdefault(id(target.frame), (target.frame, {}))[1][m.group(1)] = el

        async def one(frame: Frame, els: dict[str, Element]) -> None:
            data = json.loads(await frame.evaluate(features_source(), list(els)))
            for stamp, d in data.items():
                if stamp in els and isinstance(d, dict):
                    els[stamp].attributes.update(flatten(d))

        # A frame that went away leaves its elements as they are.
        await asyncio.gather(*(one(f, els) for f, els in frames.values()), return_exceptions=True)
