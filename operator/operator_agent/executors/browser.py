"""Performs actions in a Playwright browser context.

Elements are found through the perceiver's last observation (by index, across
frames and shadow roots); actions at pixels go through the Pointer (pointer.py).
Anything that goes wrong on the page becomes an ActionResult with an error the
model reads next step; only our own bugs raise.
"""

from __future__ import annotations

import asyncio

from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ..actions import performed_in
from ..perception.browser import DomPerceiver, ElementTarget
from ..permissions.detectors.elements import origin_of
from ..permissions.placeholders import has_placeholder
from ..permissions.uploads import UploadRefused, always_refused, resolve_upload
from ..permissions.vault import Vault, VaultError
from ..protocols import ActionError
from ..types import (
    Action,
    ActionResult,
    Back,
    Click,
    CloseTab,
    Element,
    Navigate,
    Observation,
    Press,
    Scroll,
    Select,
    SwitchTab,
    Type,
    Upload,
    Wait,
)
from .dialogs import DialogWatch
from .frame_click import click_into_frame
from .pointer import Pointer, click_if_clear, is_pixel_action, target_of
from .settle import Mark, NetworkWatch, SettleOptions, Settler

__all__ = ["BrowserExecutor", "SettleOptions"]

# Where the form around a field submits: its action and every submitter's formaction.
_FORM_TARGETS_JS = """el => {
  const form = el.form;
  if (!form) return [];
  const attr = (e, name) => Element.prototype.getAttribute.call(e, name);
  const abs = u => new URL(u === null ? '' : u, document.baseURI).href;
  const urls = [abs(attr(form, 'action'))];
  for (const b of Array.from(form.elements)) {
    if (Element.prototype.hasAttribute.call(b, 'formaction')) urls.push(abs(attr(b, 'formaction')));
  }
  return urls;
}"""

# Resolves true on the first real DOM change, false after `cap` ms.
_DOM_CHANGE_JS = """cap => new Promise(resolve => {
  const obs = new MutationObserver(muts => {
    if (muts.every(m => m.type === 'attributes' && m.attributeName === 'data-oa')) return;
    obs.disconnect(); clearTimeout(t); resolve(true);
  });
  obs.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  const t = setTimeout(() => { obs.disconnect(); resolve(false); }, cap);
})"""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


class BrowserExecutor:
    """Acts on the current tab of a browser context."""

    actions = performed_in("browser")  # what _dispatch performs (actions.py)

    def __init__(self, context: BrowserContext, perceiver: DomPerceiver,
                 *, settle: SettleOptions | None = None, vault: Vault | None = None,
                 dialogs: DialogWatch | None = None) -> None:
        self.context = context
        self.dialogs = dialogs or DialogWatch()  # confirm/prompt: Cancel unless the person answers
        self.vault = vault  # placeholders become values only here, on their bound origins
        self.perceiver = perceiver
        self.settle_options = settle or SettleOptions()
        self.pointer = Pointer(perceiver, timeout_ms=self.settle_options.action_timeout)
        self.settler = Settler(context, self.settle_options)
        self._watches: dict[Page, NetworkWatch] = {}
        self._warmed: dict[Page, int] = {}  # the page's navigation count when last warmed
        self._warming: set[asyncio.Future[int]] = set()
        self._new_pages: list[Page] = []
        pages = context.pages
        self.page: Page = pages[-1] if pages else None  # type: ignore[assignment]
        for p in pages:
            self._watch(p)
        context.on("page", self._on_new_page)

    async def ensure_page(self) -> Page:
        # Before any page of ours loads: the perceiver's registry of closed shadow roots.
        await self.perceiver.prepare(self.context)
        if self.page is None or self.page.is_closed():
            open_pages = [p for p in self.context.pages if not p.is_closed()]
            self.page = open_pages[-1] if open_pages else await self.context.new_page()
            self._watch(self.page)
        return self.page

    def _watch(self, page: Page) -> None:
        if page not in self._watches:
            watch = NetworkWatch()
            watch.attach(page)
            self._watches[page] = watch
            self.dialogs.attach(page)

    def _on_new_page(self, page: Page) -> None:
        self._watch(page)
        self._new_pages.append(page)
        for watch in self._watches.values():  # a settle waiting for this tab wakes up
            watch.changed.set()

    def warm(self) -> None:
        """Playwright's in-page helper, which every locator action needs, is made once per
        document on first use (~35 ms here): have it made now, in the background, while the
        model decides, instead of in the first action on a new page."""
        page = self.page
        if page is None or page.is_closed() or page not in self._watches:
            return
        navigations = self._watches[page].navigations
        if self._warmed.get(page) == navigations:
            return
        self._warmed[page] = navigations
        task = asyncio.ensure_future(page.locator(":root").count())
        self._warming.add(task)  # held until done; a page gone by then is no matter
        task.add_done_callback(lambda t: (self._warming.discard(t), t.cancelled() or t.exception()))

    # --- settling ------------------------------------------------------------

    async def settle(self, mark: Mark | None = None) -> None:
        """Wait for what happened since `mark` (None: since the document began) to finish:
        navigation, requests, short timers, DOM changes (settle.py), each with a cap."""
        page = await self.ensure_page()
        await self.settler.settle(page, self._watches[page], mark, opened=lambda: bool(self._new_pages))

    # --- actions -------------------------------------------------------------

    async def perform(self, action: Action, observation: Observation) -> ActionResult:
        page = await self.ensure_page()
        self._new_pages.clear()
        index = getattr(action, "index", None)
        target = observation.element(index) if isinstance(index, int) else target_of(action, observation)
        before = self._watches[page].navigations
        cap = self.settle_options.whole_action_cap / 1000
        earlier = self.dialogs.take()  # opened by the page between actions
        mark = await self.settler.mark(page, self._watches[page])
        result = await self._perform(action, page, observation, target, before, cap, mark)
        notes = [f"before this action, {d.describe()}" for d in earlier]
        notes += [d.describe() for d in self.dialogs.take()]
        if notes:  # the model hears of every dialog, and of how it was answered
            said = "; ".join(notes)
            if result.ok:
                result.detail = f"{result.detail}; {said}" if result.detail else said
            else:
                result.error = f"{result.error}; {said}"
        return result

    async def _perform(self, action: Action, page: Page, observation: Observation, target: Element | None,
                       before: int, cap: float, mark: Mark) -> ActionResult:
        try:
            detail = await asyncio.wait_for(self._dispatch(action, page, observation), cap)
        except TimeoutError:
            return ActionResult(ok=False, target=target,
                                error=f"the page did not finish the {action.action} within {cap:g} s")
        except ActionError as exc:
            return ActionResult(ok=False, error=str(exc), target=target)
        except PlaywrightTimeout as exc:
            return ActionResult(ok=False, target=target, error=self._explain_timeout(action, exc))
        except PlaywrightError as exc:
            return ActionResult(ok=False, target=target, error=self._explain(action, exc))
        await self.settle(mark)
        if await self._follow_new_tab():
            await self.settle()
        changed = self.page is not page or self._watches[page].navigations != before
        return ActionResult(ok=True, detail=detail, target=target, page_changed=changed)

    async def _follow_new_tab(self) -> bool:
        # A click that opens a tab (target=_blank, window.open) moves the person there too.
        # Checked after settling: the context's "page" event can arrive after the click returns.
        fresh = [p for p in self._new_pages if not p.is_closed()]
        self._new_pages.clear()
        if not fresh:
            return False
        self.page = fresh[-1]
        return True

    def _explain_timeout(self, action: Action, exc: BaseException) -> str:
        index = getattr(action, "index", None)
        what = f"element [{index}]" if index is not None else "the page"
        if isinstance(action, Navigate):
            return f"navigation to {action.url} timed out"
        return (f"{what} did not respond in time (covered by another element, not visible, "
                f"or not editable): {_first_line(exc)}")

    def _explain(self, action: Action, exc: BaseException) -> str:
        msg = _first_line(exc)
        if "detached" in msg or "not attached" in msg:
            return f"element [{getattr(action, 'index', '?')}] is no longer on the page; look again"
        if isinstance(action, Navigate):
            return f"could not open {action.url}: {msg}"
        return msg

    async def _dispatch(self, action: Action, page: Page, observation: Observation) -> str:
        o = self.settle_options
        if is_pixel_action(action):  # at viewport pixels, checked against the observation
            return await self.pointer.perform(action, page, observation)
        match action:
            case Click():
                seen = self.perceiver.target(action.index)
                if await click_if_clear(page, seen.frame, seen.selector, button=action.button,
                                        double=action.double):
                    return f"clicked [{action.index}]"
                target = await self._target(action.index)
                if target.frame is not page.main_frame:  # checked on arrival (frame_click.py)
                    note = await click_into_frame(target.locator, target.frame, button=action.button,
                                                  double=action.double, timeout=o.action_timeout)
                    return f"clicked [{action.index}]" + (f" ({note})" if note else "")
                await target.locator.click(button=action.button, click_count=2 if action.double else 1,
                                           timeout=o.action_timeout)
                return f"clicked [{action.index}]"
            case Type():
                target = await self._target(action.index)
                text = self._substitute(action.text, target)
                if has_placeholder(action.text):
                    await self._check_form_targets(action.text, target)
                    # In one go: no key events a page's script could send on one by one.
                    if not action.clear:
                        await target.locator.focus(timeout=o.action_timeout)
                        await target.frame.page.keyboard.insert_text(text)
                    else:
                        await target.locator.fill(text, timeout=o.action_timeout)
                elif action.clear:
                    await target.locator.fill(text, timeout=o.action_timeout)
                else:
                    await target.locator.press_sequentially(text, timeout=o.action_timeout)
                if action.submit:
                    await target.locator.press("Enter", timeout=o.action_timeout)
                return f"typed {len(action.text)} characters into [{action.index}]"
            case Select():
                return await self._select(action)
            case Press():
                for combo in action.keys.split():
                    await page.keyboard.press(combo)
                return f"pressed {action.keys}"
            case Scroll():
                return await self._scroll(action, page)
            case Navigate():
                url = action.url if "://" in action.url or action.url.startswith(("about:", "data:")) \
                    else "https://" + action.url
                await page.goto(url, wait_until="domcontentloaded", timeout=o.navigation_cap)
                return f"opened {page.url}"
            case Back():
                response = await page.go_back(wait_until="domcontentloaded", timeout=o.navigation_cap)
                if response is None and page.url == "about:blank":
                    raise ActionError("there is no earlier page in this tab")
                return f"went back to {page.url}"
            case SwitchTab():
                pages = self._open_pages()
                if not 0 <= action.tab < len(pages):
                    raise ActionError(f"there is no tab {action.tab}; tabs are 0..{len(pages) - 1}")
                self.page = pages[action.tab]
                await self.page.bring_to_front()
                return f"switched to tab {action.tab}"
            case CloseTab():
                pages = self._open_pages()
                victim = page if action.tab is None else (
                    pages[action.tab] if 0 <= action.tab < len(pages) else None)
                if victim is None:
                    raise ActionError(f"there is no tab {action.tab}")
                await victim.close()
                rest = self._open_pages()
                self.page = rest[-1] if rest else await self.context.new_page()
                self._watch(self.page)
                return "closed the tab"
            case Upload():
                # The gate judged the resolved file; resolve again and attach exactly that
                # file, never one of the places no policy may open.
                try:
                    path = resolve_upload(action.path)
                except UploadRefused as exc:
                    raise ActionError(str(exc)) from None
                refused = always_refused(path)
                if refused is not None:
                    raise ActionError(refused)
                loc = (await self._target(action.index)).locator
                await loc.set_input_files(str(path), timeout=o.action_timeout)
                return f"attached {path.name}"
            case Wait():
                # Until the page changes (then settle), or the time the model allowed runs out.
                changed = await page.evaluate(_DOM_CHANGE_JS, action.seconds * 1000)
                return "the page changed" if changed else f"waited {action.seconds:g}s, nothing changed"
        raise ActionError(f"the browser cannot perform {action.action!r}")

    def _substitute(self, text: str, target: ElementTarget) -> str:
        """Secrets: the model writes {{secret:NAME}}; the value is typed only into a
        frame whose origin the secret is bound to (the gate checked it too)."""
        if not has_placeholder(text):
            return text
        if self.vault is None:
            raise ActionError("no secrets are set up: the person adds them with `operator vault add-...`")
        try:
            return self.vault.resolve(text, origin_of(target.frame.url))
        except VaultError as exc:
            raise ActionError(str(exc)) from exc

    async def _check_form_targets(self, text: str, target: ElementTarget) -> None:
        """A secret goes only into a form that submits to an origin it is bound to (the
        field's own frame is not enough: its form may post elsewhere). The page's script
        can still change the form afterwards: the network guard's secret filter is the
        backstop for that."""
        try:
            urls: list[str] = await target.locator.evaluate(_FORM_TARGETS_JS)
        except PlaywrightError as exc:
            raise ActionError(f"cannot tell where the form of [{target.element.index}] sends: "
                              f"{_first_line(exc)}") from exc
        assert self.vault is not None  # _substitute refused already
        for url in urls:
            if not url.lower().startswith(("http:", "https:")):
                continue  # javascript: runs the page's own script; data: goes nowhere
            try:
                self.vault.check(text, origin_of(url))
            except VaultError as exc:
                where = f"the form of [{target.element.index}] sends to {url[:120]}"
                raise ActionError(f"{where}: {exc}") from exc

    def _open_pages(self) -> list[Page]:
        return [p for p in self.context.pages if not p.is_closed()]

    async def _target(self, index: int) -> ElementTarget:
        """The element behind an index, checked to still be on the page (fails fast
        instead of waiting out a locator timeout)."""
        target = self.perceiver.target(index)
        if not await target.exists():
            raise ActionError(f"element [{index}] is no longer on the page; look again")
        return target

    async def _select(self, action: Select) -> str:
        target = await self._target(action.index)
        if target.element.tag != "select":
            raise ActionError(f"element [{action.index}] is not a select list; click it to open it, "
                              "then click the option")
        options: list[list[str]] = await target.locator.evaluate(
            "el => [...el.options].map(o => [o.label.trim(), o.value])")
        wanted = action.option.strip()
        # Exact label, then value, then case-insensitive label, then a unique partial label.
        match = (next((v for label, v in options if label == wanted), None)
                 or next((v for _, v in options if v == wanted), None)
                 or next((v for label, v in options if label.lower() == wanted.lower()), None))
        if match is None:
            partial = [v for label, v in options if wanted.lower() in label.lower()]
            match = partial[0] if len(partial) == 1 else None
        if match is None:
            choices = ", ".join(repr(label) for label, _ in options[:20])
            raise ActionError(f"[{action.index}] has no option {action.option!r}; options: {choices}")
        await target.locator.select_option(value=match, timeout=self.settle_options.action_timeout)
        return f"selected {action.option!r} in [{action.index}]"

    async def _scroll(self, action: Scroll, page: Page) -> str:
        dx, dy = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}[action.direction]
        js = """([el, dx, dy, pages]) => {
          const box = el || document.scrollingElement || document.documentElement;
          const h = el ? el.clientHeight : innerHeight, w = el ? el.clientWidth : innerWidth;
          box.scrollBy(dx * w * pages, dy * h * pages);
        }"""
        if action.index is not None:
            loc = (await self._target(action.index)).locator
            await loc.evaluate("(el, a) => (" + js + ")([el, ...a])", [dx, dy, action.pages])
            return f"scrolled [{action.index}] {action.direction}"
        await page.evaluate(js, [None, dx, dy, action.pages])
        return f"scrolled {action.direction} {action.pages:g} page(s)"
