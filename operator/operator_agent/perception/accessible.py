"""From the accessibility tree to the desktop's elements, and what is left for OCR.

A node becomes an element when a person could act on it or read it (buttons, menu items,
fields, checkboxes, tabs, labels); containers (panels, fillers, scroll panes) do not. Only
what is visible counts: a node whose centre is covered by another window is left out (a
click there would land in that other window). The X windows whose programs published
elements are "covered": OCR does not read them again, except where the tree says the
content is drawn (a canvas, an image, a terminal).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .atspi import Node, TopLevel
from .controls import SENSITIVE_NAME, Item
from .screen import Region, Window

# AT-SPI role name -> our role (the browser's words, so the gate and the model read both alike).
ROLES = {
    "push button": "button", "toggle button": "button", "button": "button",
    "check box": "checkbox", "radio button": "radio", "switch": "switch",
    "menu": "menu", "menu item": "menuitem", "check menu item": "menuitemcheckbox",
    "radio menu item": "menuitemradio",
    "combo box": "combobox", "spin button": "spinbutton", "slider": "slider",
    "page tab": "tab", "list item": "option", "table cell": "cell", "tree item": "treeitem",
    "link": "link", "entry": "textbox", "password text": "textbox", "text": "textbox",
    "label": "text", "static": "text", "heading": "heading", "paragraph": "text", "caption": "text",
    "status bar": "text", "image": "img", "icon": "img", "notification": "text", "alert": "text",
}
DRAWN = frozenset({"canvas", "drawing area", "terminal", "image", "animation", "video"})
_CHECKABLE = frozenset({"checkbox", "radio", "switch", "menuitemcheckbox", "menuitemradio"})
_TEXTS = frozenset({"text", "heading"})
_ROWS = frozenset({"cell", "option", "treeitem"})


def item_of(node: Node) -> Item | None:
    """The element a node stands for, or None (a container, an unnamed image, empty text)."""
    role = ROLES.get(node.role)
    if role is None or node.box is None:
        return None
    editable = "editable" in node.states and "EditableText" in node.interfaces
    if node.role == "text" and not editable:  # a read-only text view: what it shows
        role = "text"
    name = node.name.strip()
    value = node.value.strip() if node.value is not None else None
    if role in _TEXTS or role == "img":
        name = name or (value or "")
        value = None
        if not name:
            return None
    if role in _ROWS and not name and not value:
        return None  # an icon's cell, a row whose label is listed as text of its own
    attrs = {"ref": str(node.ref), "via": "accessibility"}
    if editable:
        attrs["editable"] = "text"
    enabled = "enabled" in node.states or "sensitive" in node.states
    if not enabled and role not in _TEXTS:
        if not name:
            return None
        role, value = "text", None  # a greyed-out control: read, not acted on (as in the browser)
        attrs = {"via": "accessibility", "disabled": "true"}
    item = Item(role=role, region=node.box, name=name, value=value, attributes=attrs)
    if role in _CHECKABLE or "checkable" in node.states:
        item.checked = "checked" in node.states
    elif role == "button" and node.role == "toggle button" and "checked" in node.states:
        item.attributes["aria-pressed"] = "true"
    if role in ("menu", "combobox") and "expanded" in node.states:
        item.attributes["aria-expanded"] = "true"
    if "required" in node.states:
        item.attributes["required"] = ""
    if "read-only" in node.states and role == "textbox":
        item.attributes["readonly"] = ""
    # A password field, or a field whose name says it holds a secret (a card number, a PIN):
    # its value is never read out, only whether it is filled.
    if node.role == "password text" or (role == "textbox" and SENSITIVE_NAME.search(name)):
        item.sensitive = True
        item.attributes["filled"] = "true" if node.length or item.value else "false"
        item.value = None
    return item


def window_under(windows: Sequence[Window], x: float, y: float) -> Window | None:
    """The topmost X window at a screen point, popups as themselves (`windows` topmost first)."""
    return next((w for w in windows if w.region.contains_point(x, y)), None)


def holds(window: Window, box: Region) -> bool:
    """An X window holds a top-level's box (a window manager's frame adds its borders)."""
    return window.region.expand(2).contains(box)


def home_window(top: TopLevel, windows: Sequence[Window]) -> Window | None:
    """The X window a top-level is: of those that hold its box, the one with its title, then
    the closest fit (a bigger window that happens to hold it is another program's)."""
    if top.box is None:
        return None
    fits = [w for w in windows if holds(w, top.box)]
    return min(fits, key=lambda w: (bool(top.name) and w.title != top.name, w.region.area), default=None)


def tree_items(tops: Sequence[TopLevel], windows: Sequence[Window],
               area: Region) -> tuple[list[Item], set[int], list[Region]]:
    """(the visible elements of the tree, in screen pixels; the X windows they cover, by id;
    the drawn areas inside those windows that OCR should still read)."""
    items: list[Item] = []
    covered: set[int] = set()
    drawn: list[Region] = []
    for top in tops:
        home = home_window(top, windows)
        if home is None:
            continue  # not on this screen (minimised, another workspace)
        for node in top.nodes:
            visible = node.box.clip(area) if node.box is not None else None
            if visible is None or visible.w <= 0 or visible.h <= 0:
                continue
            over = window_under(windows, *visible.center)
            # A program's menus and drop-down lists are popups of their own (override-redirect)
            # while their items stay in the program's tree.
            opened = over is not None and over.popup and over.region.expand(2).contains(visible)
            if over is None or (over.id != home.id and not opened):
                continue  # another window is drawn over it: a click there would land in that one
            if node.role in DRAWN:
                drawn.append(visible)
                covered.add(over.id)
                continue
            item = item_of(node)
            if item is not None:
                item.region = visible
                items.append(item)
                covered.add(over.id)
    return items, covered, drawn


def mask_covered(gray: np.ndarray, windows: Sequence[Window], covered: set[int], drawn: Sequence[Region],
                 origin: tuple[int, int]) -> np.ndarray:
    """The screenshot with the visible parts of covered windows painted over (one flat colour
    has no text and no frames to find), the drawn areas left as they are."""
    if not covered:
        return gray
    mask = np.zeros(gray.shape[:2], dtype=bool)
    ox, oy = origin
    for w in reversed(windows):  # bottom first: a window above paints over those below
        w.region.offset(-ox, -oy).slice(mask)[...] = w.id in covered
    for r in drawn:
        r.offset(-ox, -oy).slice(mask)[...] = False
    out = gray.copy()
    out[mask] = 255
    return out
