"""Pixel actions in a browser: what is under the point is what the gate checks.

A click, a drag or typing at viewport pixel (x, y) acts on whatever the page shows
there. The observation lists elements with their boxes (viewport CSS pixels, the
elements of child frames placed in top-level coordinates), so a point maps to the
elements whose box holds it, and the action is checked as the same action on each of
them by index: a click_at on "Pay" is a click on "Pay", typing at a point is a click
and a type there. Every box that holds the point counts, nested or overlapping:
which of them takes the event depends on stacking the observation does not record.

A point over no listed element but inside the area a frame's elements cover acts in
that frame: an element standing for the frame's area (a negative index, never a real
one) is added to the observation the detectors read, so a click there is "acting inside the
payment frame" like a click on one of its fields. Any other point is an unknown
target (the caller decides: harmless on most pages, asked about where payment is).

The executor checks the page again at the moment it acts (executors/pointer.py): what
is under the point then must be what the observation put there.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...types import Action, BBox, Click, ClickAt, Drag, Element, Observation, Type, TypeAt
from .elements import host_of

Point = tuple[int, int]


@dataclass(frozen=True)
class PointTargets:
    """What a pixel action acts on, as the detectors can check it."""

    observation: Observation  # the observation, with a frame's area element when one was hit
    actions: tuple[Action, ...]  # the same action on each element under its points, by index
    unknown: tuple[Point, ...]  # points over no listed element and no frame's area
    elements: tuple[Element, ...]  # the elements under its points, innermost first


def _holds(box: BBox | None, x: float, y: float) -> bool:
    return box is not None and box.x <= x < box.x + box.width and box.y <= y < box.y + box.height


def elements_at(obs: Observation, x: float, y: float) -> list[Element]:
    """The listed elements whose box holds viewport point (x, y), innermost (smallest) first."""
    hit = [el for el in obs.elements if el.index > 0 and _holds(el.bbox, x, y)]
    return sorted(hit, key=lambda el: el.bbox.width * el.bbox.height if el.bbox else 0.0)


def frame_areas(obs: Observation) -> dict[str, BBox]:
    """Each child frame's area: the box around its listed elements (frames are not
    elements themselves, so their own box is not in the observation)."""
    areas: dict[str, BBox] = {}
    for el in obs.elements:
        b = el.bbox
        if not el.frame or b is None or b.width <= 0 or b.height <= 0:
            continue
        a = areas.get(el.frame)
        if a is None:
            areas[el.frame] = b
            continue
        x0, y0 = min(a.x, b.x), min(a.y, b.y)
        x1, y1 = max(a.x + a.width, b.x + b.width), max(a.y + a.height, b.y + b.height)
        areas[el.frame] = BBox(x=x0, y=y0, width=x1 - x0, height=y1 - y0)
    return areas


def frame_at(obs: Observation, x: float, y: float) -> str | None:
    """The child frame whose area holds the point (the smallest, for nested frames)."""
    held = [(a.width * a.height, url) for url, a in frame_areas(obs).items() if _holds(a, x, y)]
    return min(held)[1] if held else None


def _points(action: Action) -> list[tuple[int | None, Point | None]]:
    """(index, point) of each place the action acts: one of the two is set."""
    match action:
        case ClickAt() | TypeAt():
            return [(None, (action.x, action.y))]
        case Drag():
            ends: list[tuple[int | None, Point | None]] = []
            for index, x, y in ((action.from_index, action.from_x, action.from_y),
                                (action.to_index, action.to_x, action.to_y)):
                if index is not None:
                    ends.append((index, None))
                elif x is not None and y is not None:
                    ends.append((None, (x, y)))
            return ends
    return []


def _same_on(action: Action, index: int) -> list[Action]:
    if isinstance(action, ClickAt):
        return [Click(index=index, button=action.button, double=action.double)]
    if isinstance(action, TypeAt):  # it clicks there first, then types
        return [Click(index=index), Type(index=index, text=action.text, clear=action.clear,
                                         submit=action.submit)]
    return [Click(index=index)]  # a drag presses on one end and releases on the other


def resolve(action: Action, obs: Observation) -> PointTargets | None:
    """What a pixel action acts on, or None when `action` names no points (index actions,
    and actions that only look: a hover or a scroll at a point changes nothing)."""
    places = _points(action)
    if not places:
        return None
    actions: list[Action] = []
    elements: list[Element] = []
    unknown: list[Point] = []
    areas: dict[str, Element] = {}  # frame -> the element standing for its area
    for index, point in places:
        if index is not None:  # a drag end named by index: that element, like a click on it
            actions += _same_on(action, index)
            el = obs.element(index)
            elements += [el] if el is not None else []
            continue
        assert point is not None
        under = elements_at(obs, *point)
        if not under:
            frame = frame_at(obs, *point)
            if frame is None:
                unknown.append(point)
                continue
            if frame not in areas:  # indexes from -1 down: the perceiver numbers from 1
                areas[frame] = Element(index=-1 - len(areas), role="generic", tag="iframe", frame=frame,
                                       name=f"the frame of {host_of(frame)}", bbox=frame_areas(obs)[frame])
            under = [areas[frame]]
        for el in under:
            actions += _same_on(action, el.index)
        elements += under
    seen = obs if not areas else obs.model_copy(update={"elements": [*obs.elements, *areas.values()]})
    distinct = {a.model_dump_json(): a for a in actions}  # nested boxes of two points repeat
    return PointTargets(observation=seen, actions=tuple(distinct.values()), unknown=tuple(unknown),
                        elements=tuple(elements))
