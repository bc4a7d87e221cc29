"""The shared vocabulary: everything that crosses a module line is one of these.

Public types are keyword-only pydantic models so fields can be added later
without breaking callers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BBox(_Model):
    """A box in CSS pixels relative to the top-left of the visible viewport
    (so it matches a viewport screenshot), or screen pixels on a desktop."""

    x: float
    y: float
    width: float
    height: float

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2


class Element(_Model):
    """One thing on screen the agent may act on, by its index."""

    index: int
    role: str
    tag: str
    name: str = ""
    value: str | None = None  # never set for password or payment-card fields
    placeholder: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    options: list[str] | None = None  # visible option labels of a select
    checked: bool | None = None
    bbox: BBox | None = None
    frame: str = ""  # "" for the main frame, else the frame's URL
    locator: str = ""  # human-readable description good enough to find it again
    sensitive: bool = False  # password, card number, CVC...: values never read
    in_viewport: bool = True


class Tab(_Model):
    index: int
    title: str
    url: str
    active: bool = False
    bbox: BBox | None = None  # desktop: the window on screen (tabs are then listed topmost first)


# What observe() is asked for: no picture, an exact PNG (True: for a model), or a cheaper
# JPEG for people (traces); an environment without a cheaper format gives its PNG.
Screenshot = bool | Literal["jpeg"]
# Pictures in a run's trace: every step, only after a failed step, none.
ScreenshotMode = Literal["steps", "failures", "off"]
SCREENSHOT_MODES: tuple[ScreenshotMode, ...] = ("steps", "failures", "off")


class Observation(_Model):
    url: str
    title: str = ""
    tabs: list[Tab] = Field(default_factory=list)
    elements: list[Element] = Field(default_factory=list)
    text: str = ""  # the compact serialization the model reads
    tokens: int = 0  # token count of `text`
    tokens_estimated: bool = False  # True when no tokenizer was available
    screenshot: bytes | None = Field(default=None, exclude=True, repr=False)
    errors: list[str] = Field(default_factory=list)  # from the last action
    # Names of the actions the environment performs (actions.py); empty: not said, all of them.
    actions: list[str] = Field(default_factory=list)

    def element(self, index: int) -> Element | None:
        for el in self.elements:
            if el.index == index:
                return el
        return None


# --- actions: a discriminated union on `action` -----------------------------
# The JSON schema of this union is what the model is given, so prompt and
# validation cannot drift apart. Docstrings become schema descriptions.


class Click(_Model):
    """Click the element with this index."""

    action: Literal["click"] = "click"
    index: int
    button: Literal["left", "right", "middle"] = "left"
    double: bool = False


class Type(_Model):
    """Type text into a field (replacing what is there unless clear is false);
    submit presses Enter afterwards."""

    action: Literal["type"] = "type"
    index: int
    text: str
    clear: bool = True
    submit: bool = False


class Select(_Model):
    """Choose an option of a select or list box by its visible label."""

    action: Literal["select"] = "select"
    index: int
    option: str


class Press(_Model):
    """Press keys, e.g. "Enter", "Escape", "Control+A"."""

    action: Literal["press"] = "press"
    keys: str


class Scroll(_Model):
    """Scroll the page (or the element with this index, or what is under pixel x, y) by pages."""

    action: Literal["scroll"] = "scroll"
    direction: Literal["up", "down", "left", "right"] = "down"
    pages: float = 1.0
    index: int | None = None
    x: int | None = None
    y: int | None = None


class Navigate(_Model):
    """Open a URL in the current tab."""

    action: Literal["navigate"] = "navigate"
    url: str


class Back(_Model):
    """Go back in the current tab's history."""

    action: Literal["back"] = "back"


class SwitchTab(_Model):
    """Make the tab with this index the current one."""

    action: Literal["switch_tab"] = "switch_tab"
    tab: int


class CloseTab(_Model):
    """Close a tab (the current one when tab is null)."""

    action: Literal["close_tab"] = "close_tab"
    tab: int | None = None


class Upload(_Model):
    """Attach a local file to a file input."""

    action: Literal["upload"] = "upload"
    index: int
    path: str


class Wait(_Model):
    """Wait for the page to change, up to this many seconds."""

    action: Literal["wait"] = "wait"
    seconds: float = Field(default=1.0, ge=0, le=10)


class AskUser(_Model):
    """Ask the person a question and wait for the answer."""

    action: Literal["ask_user"] = "ask_user"
    question: str


class Done(_Model):
    """Finish: the answer for the person, and whether the task succeeded."""

    action: Literal["done"] = "done"
    answer: str
    success: bool = True


class HandOver(_Model):
    """Give the person control of the browser (or desktop) for what only they should do themselves:
    log in without a stored secret, solve a CAPTCHA, enter a two-factor code. You wait until they hand
    back, then see the page again as they left it. reason: what they should do, in a few words."""

    action: Literal["hand_over"] = "hand_over"
    reason: str = Field(description='What the person should do, e.g. "log in to your account".')


# Modifier keys a pixel action may hold down, as the model may name them -> the name used here.
MODIFIERS = {"shift": "Shift", "control": "Control", "ctrl": "Control", "alt": "Alt", "option": "Alt",
             "meta": "Meta", "cmd": "Meta", "command": "Meta", "super": "Meta", "win": "Meta"}


def held_keys(hold: str) -> list[str]:
    """ "ctrl+Shift" -> ["Control", "Shift"]; ValueError for a key that is not a modifier."""
    names = [k.strip() for k in hold.replace(" ", "+").split("+") if k.strip()]
    bad = [k for k in names if k.lower() not in MODIFIERS]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a modifier key: hold only Shift, Control, Alt or Meta")
    return list(dict.fromkeys(MODIFIERS[k.lower()] for k in names))


_HOLD = 'Modifier keys held down meanwhile, e.g. "Shift" or "Control+Shift"; empty for none.'


def held_note(hold: str) -> str:
    """How an executor reports the keys an action held (" holding Shift"; "" for none)."""
    return f" holding {hold}" if hold else ""


class _Holds(_Model):
    """A pixel action that may hold modifier keys down while it acts (its `hold` field, last)."""

    @field_validator("hold", check_fields=False)
    @classmethod
    def _modifiers_only(cls, hold: str) -> str:
        return "+".join(held_keys(hold))


class MoveMouse(_Model):
    """Move the mouse (hover) onto the element with this index, or to pixel x, y of the screenshot."""

    action: Literal["move"] = "move"
    index: int | None = None
    x: int | None = None
    y: int | None = None


class ClickAt(_Holds):
    """Click at pixel x, y of the screenshot (0, 0 is its top left), where no listed element fits:
    a canvas, a drawing, a spot on a slider."""

    action: Literal["click_at"] = "click_at"
    x: int
    y: int
    button: Literal["left", "right", "middle"] = "left"
    double: bool = False
    hold: str = Field(default="", description=_HOLD)


class Drag(_Holds):
    """Hold the button down on one element (from_index) or pixel (from_x, from_y), move to another
    (to_index, or to_x, to_y) and release it there: sliders, drag and drop, drawing."""

    action: Literal["drag"] = "drag"
    from_index: int | None = None
    from_x: int | None = None
    from_y: int | None = None
    to_index: int | None = None
    to_x: int | None = None
    to_y: int | None = None
    button: Literal["left", "right", "middle"] = "left"
    hold: str = Field(default="", description=_HOLD)


class TypeAt(_Model):
    """Click at pixel x, y of the screenshot, then type text there (replacing what the field
    holds unless clear is false); for fields that are not listed. Never for passwords or cards."""

    action: Literal["type_at"] = "type_at"
    x: int
    y: int
    text: str
    clear: bool = True
    submit: bool = False


class OpenApp(_Model):
    """Start a program on the computer, by its name as installed (its command, e.g. "mousepad",
    or its menu name, e.g. "Galculator"), and optionally open a file with it; its first window
    then shows on the screen. The person is asked first unless they allowed that program."""

    action: Literal["open_app"] = "open_app"
    app: str = Field(description='The program: its command ("mousepad") or its menu name ("Text Editor").')
    file: str | None = Field(default=None, description="A file to open with it: an absolute path or "
                             "~/...; a relative one is taken from the home folder. Null for none.")


class UseSkill(_Model):
    """Run a taught skill (from the SKILLS list in the task) with these parameter values; its
    steps are replayed for you, each checked by the permission layer, then you see the page again."""

    action: Literal["use_skill"] = "use_skill"
    name: str
    parameters: dict[str, str] = Field(default_factory=dict)


Action = Annotated[
    Click | Type | Select | Press | Scroll | Navigate | Back | SwitchTab | CloseTab
    | Upload | Wait | AskUser | Done | MoveMouse | ClickAt | Drag | TypeAt | OpenApp | UseSkill
    | HandOver,
    Field(discriminator="action"),
]

ELEMENT_ACTIONS = (Click, Type, Select, Upload)


class Decision(_Model):
    """What the model decided this step: why, then what to do."""

    reasoning: str = Field(description="One or two short sentences: what you see and why these actions.")
    actions: list[Action] = Field(min_length=1, max_length=8)
    preference_ids: list[str] = Field(
        default_factory=list,
        description="Ids of the person's preferences that decided a choice in this step, if any.")


class ApprovalNote(_Model):
    """A question put to the person during a step, exactly as they saw it, and their answer."""

    summary: str
    approved: bool


# --- takeover: the person has the browser or desktop for a while (takeover.py) -----------

TakeoverAsker = Literal["model", "person"]  # the hand_over action, or the person's own key


class HandOverRequest(_Model):
    """What protocols.Takeover is asked: who wants the person to have control, why, and where."""

    reason: str
    asked_by: TakeoverAsker
    environment: Literal["browser", "desktop"]
    url: str = ""  # where the agent left off


class HandBack(_Model):
    """How the person gave control back. done: back to the agent (note: anything they want it to
    know); gave_up: they did not do what was asked; stop: end the run here; unavailable: nobody
    could take over (note: why), nothing was handed over."""

    outcome: Literal["done", "gave_up", "stop", "unavailable"] = "done"
    note: str = ""


class HandOverNote(_Model):
    """One hand-over, for the trace: who asked, why, how it ended, how long the person had
    control (monotonic clock) and where the page was before and after."""

    reason: str
    asked_by: TakeoverAsker
    outcome: Literal["done", "gave_up", "stop"]
    note: str = ""
    seconds: float = 0.0
    url_before: str = ""
    url_after: str = ""


class PreferenceNote(_Model):
    """One of the person's preferences as the planner is shown it (never from page text)."""

    id: str
    text: str  # e.g. "prefer aisle seats (flights.seat)"


class Verification(_Model):
    """The planner's check of the final page against the task."""

    ok: bool
    reason: str


# --- what the planner reports about one call ---------------------------------


class Usage(_Model):
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None  # None: unknown model, tokens only
    calls: int = 0
    retries: int = 0
    repairs: int = 0
    estimated: bool = False  # some tokens were counted by us: the server reported no usage

    def __add__(self, other: Usage) -> Usage:
        cost = None if self.cost_usd is None and other.cost_usd is None else (
            (self.cost_usd or 0.0) + (other.cost_usd or 0.0))
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=cost,
            calls=self.calls + other.calls,
            retries=self.retries + other.retries,
            repairs=self.repairs + other.repairs,
            estimated=self.estimated or other.estimated,
        )


# How a step's actions were chosen (the trace's provenance): a model; a test's script; a
# replayed skill's step found as recorded (or the replay's own wait or scroll); a step whose
# element was found by likeness ("healed-score") or by the model ("healed-model"); the model
# again once a skill it ran had ended ("after-skill": the replay handed the run back).
Chosen = Literal["model", "scripted", "skill", "healed-score", "healed-model", "after-skill"]


class PlannerOutput(_Model):
    """A Decision plus how it was obtained (for the trace)."""

    decision: Decision
    usage: Usage = Field(default_factory=Usage)
    model_input: str = ""  # the user message of this step (system prompt is fixed)
    model_output: str = ""  # the raw reply text
    model: str = ""
    chosen: Chosen = "model"
    skill_step: int | None = None  # the replayed skill's step id, when a skill chose


class ActionResult(_Model):
    ok: bool
    error: str | None = None  # shown to the model next step
    detail: str = ""  # e.g. "navigated to ...", "typed 12 chars"
    target: Element | None = None  # the acted-on element, as observed
    extracted: str | None = None  # e.g. the person's answer to ask_user
    page_changed: bool = False  # navigated or moved to another tab: the observation is stale


class StepRecord(_Model):
    """One step of a run, as written to trace.jsonl."""

    step: int
    url: str
    title: str = ""
    observation_text: str = ""
    observation_tokens: int = 0
    elements: int = 0
    reasoning: str = ""
    actions: list[Action] = Field(default_factory=list)
    results: list[ActionResult] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    model_input: str = ""
    model_output: str = ""
    error: str | None = None  # a model mistake or planner failure this step
    preferences: list[PreferenceNote] = Field(default_factory=list)  # shown to the model this step
    preference_ids: list[str] = Field(default_factory=list)  # the ones its decision cited
    screenshot: str | None = None  # file name inside the run folder
    timings: dict[str, float] = Field(default_factory=dict)  # seconds per phase
    chosen: Chosen | None = None  # how the actions were chosen (None: no decision came)
    skill_step: int | None = None
    approvals: list[ApprovalNote] = Field(default_factory=list)  # asked of the person this step
    handovers: list[HandOverNote] = Field(default_factory=list)  # the person had control this step


StopReason = Literal[
    "done", "failed", "max_steps", "repeated_failures", "loop", "stopped", "error",
    "budget",  # --max-tokens / --max-cost: stopped before the call that would exceed it
    "model_unavailable",  # the model server refused us for good (key, model): ModelAccessError
]


class RunResult(_Model):
    task: str
    success: bool
    answer: str | None = None
    stop_reason: StopReason
    message: str = ""  # one line for a person: why it stopped
    steps: int = 0
    usage: Usage = Field(default_factory=Usage)
    seconds: float = 0.0
    run_dir: str | None = None
    verification: Verification | None = None


class Verdict(_Model):
    """The permission gate's answer for one action."""

    decision: Literal["allow", "ask", "deny"]
    reason: str = ""
    summary: str = ""  # what a person is asked to approve
