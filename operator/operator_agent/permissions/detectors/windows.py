"""Desktop: which window an action acts on. Not the focused window as such, but the
window under the element or the point it clicks (a click into a visible, unfocused
window acts on that window); keys pressed alone go to the focused one.

Windows are named by desktop URLs, `desktop://DISPLAY/TITLE` (perception.screen).
"""

from __future__ import annotations

from urllib.parse import unquote

from ...types import Action, Click, ClickAt, Drag, Observation, Select, Type, TypeAt, Upload

DESKTOP = "desktop://"


def is_desktop(obs: Observation) -> bool:
    return obs.url.startswith(DESKTOP)


def title_of(url: str) -> str:
    """The window title of a desktop URL ("" for the bare desktop)."""
    return unquote(url[len(DESKTOP):].partition("/")[2]) if url.startswith(DESKTOP) else ""


def element_window(obs: Observation, index: int) -> str:
    """The window the element is in (as the perceiver saw it); the focused one when the
    element is unknown (the executor refuses an unknown index anyway)."""
    el = obs.element(index)
    return el.frame if el is not None and el.frame.startswith(DESKTOP) else obs.url


def window_at(obs: Observation, x: float, y: float) -> str:
    """The window a click at screen pixel (x, y) lands in: an element there says so
    (popups included), else the topmost window whose box holds the point."""
    for el in obs.elements:
        b = el.bbox
        if b is not None and el.frame.startswith(DESKTOP) and b.x <= x < b.x + b.width \
                and b.y <= y < b.y + b.height:
            return el.frame
    if not any(tab.bbox for tab in obs.tabs):
        return obs.url  # where the windows are is unknown: judge by the focused one
    for tab in obs.tabs:  # topmost first on the desktop
        b = tab.bbox
        if b is not None and b.x <= x < b.x + b.width and b.y <= y < b.y + b.height:
            return tab.url
    return DESKTOP + obs.url[len(DESKTOP):].partition("/")[0] + "/"  # the bare desktop


def _end(obs: Observation, index: int | None, x: int | None, y: int | None) -> list[str]:
    if index is not None:
        return [element_window(obs, index)]
    if x is not None and y is not None:
        return [window_at(obs, x, y)]
    return []


def target_windows(action: Action, obs: Observation) -> list[str]:
    """The desktop URLs of the windows `action` acts on, without repeats."""
    match action:
        case Click() | Type() | Select() | Upload():
            found = [element_window(obs, action.index)]  # a Type clicks its field first
        case ClickAt() | TypeAt():  # a type_at clicks there first
            found = [window_at(obs, action.x, action.y)]
        case Drag():
            found = _end(obs, action.from_index, action.from_x, action.from_y) + \
                _end(obs, action.to_index, action.to_x, action.to_y)
        case _:
            found = [obs.url]  # keys go to the focused window
    return list(dict.fromkeys(found or [obs.url]))
