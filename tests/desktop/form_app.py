"""A small real Tk program for the desktop tests: a form that writes a file.

Run: python form_app.py OUTPUT.json [--x X --y Y]. Labelled fields (one of
them a password), a drop-down, a checkbox and a Save button; Save writes the
form as JSON to OUTPUT.json and shows "Saved" so an agent can see it worked.
Only the standard library: any Python with tkinter runs it.
"""

from __future__ import annotations

import argparse
import json
import tkinter as tk
from pathlib import Path

COUNTRIES = ["Canada", "France", "Japan", "Portugal"]
FONT = ("DejaVu Sans", -15)  # pixels, so the look does not depend on the X server's DPI


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("output", type=Path)
    parser.add_argument("--x", type=int, default=40)
    parser.add_argument("--y", type=int, default=40)
    args = parser.parse_args()

    root = tk.Tk()
    root.title("Operator Test Form")
    root.geometry(f"+{args.x}+{args.y}")
    root.option_add("*Font", FONT)
    frame = tk.Frame(root, padx=24, pady=20)
    frame.pack()

    fields: dict[str, tk.Entry] = {}
    for row, label in enumerate(["Full name", "Email", "City"]):
        tk.Label(frame, text=label + ":").grid(row=row, column=0, sticky="w", pady=8)
        entry = tk.Entry(frame, width=24)
        entry.grid(row=row, column=1, sticky="w", padx=(12, 0))
        fields[label] = entry

    tk.Label(frame, text="Password:").grid(row=3, column=0, sticky="w", pady=8)
    password = tk.Entry(frame, width=24, show="*")
    password.grid(row=3, column=1, sticky="w", padx=(12, 0))

    country = tk.StringVar(value="Choose...")
    tk.Label(frame, text="Country:").grid(row=4, column=0, sticky="w", pady=8)
    menu = tk.OptionMenu(frame, country, *COUNTRIES)
    menu.grid(row=4, column=1, sticky="w", padx=(12, 0))

    subscribe = tk.BooleanVar(value=False)
    tk.Checkbutton(frame, text="Subscribe to newsletter", variable=subscribe).grid(
        row=5, column=0, columnspan=2, sticky="w", pady=8)

    status = tk.Label(frame, text="")
    status.grid(row=7, column=0, columnspan=2, sticky="w", pady=(8, 0))

    def save() -> None:
        data = {label.lower().replace(" ", "_"): e.get() for label, e in fields.items()}
        data["password_set"] = bool(password.get())  # never the password itself
        data["country"] = country.get()
        data["subscribe"] = subscribe.get()
        tmp = args.output.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(args.output)  # the test polls for the file: it appears whole
        status.config(text="Saved")

    tk.Button(frame, text="Save", width=10, command=save).grid(row=6, column=1, sticky="e", pady=(12, 0))
    root.mainloop()


if __name__ == "__main__":
    main()
