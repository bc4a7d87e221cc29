"""Two windows of one Tk program for the desktop target tests: a focused editor and a
visible, unfocused "Chase Bank" window, side by side.

Run: python two_windows_app.py STATE.json. Every field's content is written to
STATE.json ({window title: {field: text}}) at start and after every key, so a
test sees exactly what reached each window.
"""

from __future__ import annotations

import json
import sys
import tkinter as tk
from pathlib import Path

FONT = ("DejaVu Sans", -15)  # pixels, so the look does not depend on the X server's DPI
EDITOR, BANK = "Notes - Editor", "Chase Bank"


def main() -> None:
    state_path = Path(sys.argv[1])
    root = tk.Tk()
    root.option_add("*Font", FONT)
    root.title(EDITOR)
    root.geometry("+40+40")
    bank = tk.Toplevel(root)
    bank.title(BANK)
    bank.geometry("+600+40")
    fields: dict[str, dict[str, tk.Entry]] = {EDITOR: {}, BANK: {}}

    def add(window: tk.Misc, title: str, rows: list[tuple[str, bool]]) -> None:
        frame = tk.Frame(window, padx=24, pady=20)
        frame.pack()
        for row, (label, secret) in enumerate(rows):
            tk.Label(frame, text=label + ":").grid(row=row, column=0, sticky="w", pady=8)
            entry = tk.Entry(frame, width=20, show="*" if secret else "")
            entry.grid(row=row, column=1, sticky="w", padx=(12, 0))
            fields[title][label] = entry

    add(root, EDITOR, [("Note", False), ("PIN", True)])
    add(bank, BANK, [("Memo", False), ("Password", True)])

    def dump(_event: object = None) -> None:
        data = {t: {label: e.get() for label, e in f.items()} for t, f in fields.items()}
        tmp = state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(state_path)  # the test reads the file whole

    root.bind_all("<KeyRelease>", dump)
    # The editor has the keyboard; the bank window stays visible but unfocused.
    root.after(50, lambda: (root.lift(), fields[EDITOR]["Note"].focus_force(), dump()))
    root.mainloop()


if __name__ == "__main__":
    main()
