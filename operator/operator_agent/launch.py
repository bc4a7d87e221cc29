"""Finding and starting a browser.

Order: OPERATOR_CHROMIUM, then Playwright's own Chromium, then Debian's
/usr/bin/chromium. On a closed network Chromium's background services flood
the log with refused connections, so they are switched off.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from .protocols import ConfigError

DEBIAN_CHROMIUM = "/usr/bin/chromium"
QUIET_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-default-apps",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
]
INSTALL_HINT = (
    "no Chromium found: run `apt-get install -y chromium` (Debian), or `playwright install chromium`, "
    "or set OPERATOR_CHROMIUM to a Chromium binary"
)


def _playwright_chromium() -> str | None:
    """Playwright's own downloaded Chromium, if this machine has it."""
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            path = p.chromium.executable_path
    except Exception:
        return None
    return path if path and os.path.isfile(path) else None


def find_chromium(playwright_path: str | None = None, *, probe: bool = True) -> str | None:
    """The browser binary to use, or None (meaning: Playwright's own build).

    playwright_path is where Playwright's own Chromium would be (ask a running
    Playwright); without it, and with probe, a sync Playwright is asked (not
    from inside an event loop: use a thread there).
    """
    env = os.environ.get("OPERATOR_CHROMIUM")
    if env:
        if not os.path.isfile(env):
            raise ConfigError(f"OPERATOR_CHROMIUM={env} does not exist; point it at a Chromium binary")
        return env
    own = playwright_path if playwright_path is not None else (_playwright_chromium() if probe else None)
    if own and os.path.isfile(own):
        return None  # Playwright launches its own build without executable_path
    for candidate in (DEBIAN_CHROMIUM, shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.path.isfile(candidate):
            return candidate
    raise ConfigError(INSTALL_HINT)


def ensure_chromium() -> str:
    """Used by the install script: find a browser, installing Debian's when we can."""
    try:
        return find_chromium() or "playwright's chromium"
    except ConfigError:
        pass
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if is_root and shutil.which("apt-get") and os.path.exists("/etc/debian_version"):
        print("operator: installing Debian's chromium (apt-get install -y chromium) ...", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=False, env=env)
        if os.path.isfile(DEBIAN_CHROMIUM):
            return DEBIAN_CHROMIUM
    raise ConfigError(INSTALL_HINT)


def prepare_profile_dir(path: Path) -> Path:
    """Make sure a persistent profile is a folder we can write to (made if missing);
    else a one-line ConfigError instead of an OSError traceback or a Chromium crash."""
    path = Path(path)
    hint = "the browser profile must be a folder you can write to (a new or existing one)"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # exists, and is not a folder
        raise ConfigError(f"profile {path} is a file: {hint}") from None
    except NotADirectoryError:  # some parent is a file
        raise ConfigError(f"profile {path} cannot be made, a parent of it is a file: {hint}") from None
    except OSError as exc:  # permissions, read-only file system, ...
        raise ConfigError(f"profile {path} cannot be made ({exc.strerror or exc}): {hint}") from None
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        raise ConfigError(f"profile {path} is not writable: {hint}")
    return path


@dataclass(kw_only=True)
class BrowserOptions:
    headless: bool = True
    profile_dir: Path | None = None  # persistent profile: logins survive between runs
    cdp_url: str | None = None  # attach to a running browser instead of launching one
    viewport: tuple[int, int] = (1280, 800)
    extra_args: list[str] = field(default_factory=list)
    executable: str | None = None  # overrides discovery


@dataclass
class BrowserHandle:
    """A started browser; close() releases whatever open_browser started. Contexts made
    here block service workers: their requests would pass around the network guard."""

    playwright: Playwright
    context: BrowserContext
    browser: Browser | None
    owns_browser: bool

    async def close(self) -> None:
        try:
            if self.owns_browser:
                if self.browser is not None:
                    await self.browser.close()
                else:
                    await self.context.close()
        finally:
            await self.playwright.stop()


def launch_args(options: BrowserOptions, playwright_path: str | None = None) -> dict[str, Any]:
    args = [*QUIET_ARGS, *options.extra_args]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to start as root otherwise
    kwargs: dict[str, Any] = {"headless": options.headless, "args": args}
    executable = options.executable or find_chromium(playwright_path or "", probe=False)
    if executable:
        kwargs["executable_path"] = executable
    return kwargs


async def open_browser(options: BrowserOptions | None = None) -> BrowserHandle:
    options = options or BrowserOptions()
    if options.profile_dir and not options.cdp_url:
        prepare_profile_dir(options.profile_dir)  # bad input: say so before anything starts
    pw = await async_playwright().start()
    try:
        viewport = {"width": options.viewport[0], "height": options.viewport[1]}
        if options.cdp_url:
            try:
                browser = await pw.chromium.connect_over_cdp(options.cdp_url)
            except Exception as exc:
                raise ConfigError(f"cannot connect to a browser at {options.cdp_url}: "
                                  f"{str(exc).splitlines()[0]}") from exc
            context = (browser.contexts[0] if browser.contexts
                       else await browser.new_context(viewport=viewport, service_workers="block"))
            # Attached to someone's running browser: closing it is theirs to do.
            return BrowserHandle(pw, context, browser, owns_browser=False)
        kwargs = launch_args(options, pw.chromium.executable_path)
        if not options.headless and not os.environ.get("DISPLAY") and sys.platform.startswith("linux"):
            raise ConfigError("--headed needs a display: run under Xvfb, e.g. `xvfb-run operator run ...`")
        if options.profile_dir:
            try:
                context = await pw.chromium.launch_persistent_context(
                    str(options.profile_dir), viewport=viewport, service_workers="block", **kwargs)
            except PlaywrightError as exc:
                if "ProcessSingleton" not in str(exc):
                    raise
                # Chromium locks a profile to one browser at a time.
                raise ConfigError(f"profile {options.profile_dir} is in use by another Chromium: close "
                                  "that browser, or pass another profile folder") from None
            return BrowserHandle(pw, context, None, owns_browser=True)
        browser = await pw.chromium.launch(**kwargs)
        context = await browser.new_context(viewport=viewport, service_workers="block")
        return BrowserHandle(pw, context, browser, owns_browser=True)
    except BaseException:
        await pw.stop()
        raise


class Launch:
    """open_browser under way as a task, so the rest of start-up (the model client, the
    policy, the preferences) runs while Chromium starts in its own processes. The task
    moves only while the caller awaits: the caller's heavy synchronous work belongs in a
    thread (asyncio.to_thread) for the two to overlap. Whoever takes the handle owns the
    browser; discard() closes it when nobody did, e.g. when a bad policy file stops the
    run before the browser is used."""

    def __init__(self, options: BrowserOptions) -> None:
        self._task = asyncio.ensure_future(self._open(options))
        self._taken = False

    @staticmethod
    async def _open(options: BrowserOptions) -> BrowserHandle:
        handle = await open_browser(options)
        if handle.owns_browser and not handle.context.pages:
            # The first tab as well: it costs a renderer's start (a few hundred ms), and a
            # blank tab sends no request, so it can exist before the network guard does.
            try:
                await handle.context.new_page()
            except BaseException:
                await handle.close()
                raise
        return handle

    async def handle(self) -> BrowserHandle:
        """The started browser, now the caller's to close; a failed launch raises here what
        open_browser raises."""
        self._taken = True
        return await self._task

    async def discard(self) -> None:
        """Close the browser unless someone took it; waits for the launch to end first."""
        if self._taken:
            return
        self._taken = True
        # Start-up has failed already: that error is the one to report, not the launch's
        # or the closing's.
        try:
            handle = await self._task
        except Exception:
            return
        with contextlib.suppress(Exception):
            await handle.close()
