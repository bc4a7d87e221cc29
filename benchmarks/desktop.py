"""Desktop perception timings on a 1920x1080 virtual screen with realistic content.

    .venv/bin/python benchmarks/desktop.py [--runs 10]

Starts its own Xvfb (-screen 0 1920x1080x24), opens several windows of text
(an editor with prose, a file list, a mail table, a settings form, a toolbar),
and prints medians over the runs of: a screenshot, a full OCR read (segmenting
and reading every text line, nothing cached), and an incremental read after a
small change (one character typed into the editor). Targets: a full read in at
most 0.8 s; an incremental read in at most a fifth of the full read. Then a whole
observation of GTK programs (mousepad, galculator) through their accessibility trees,
against the same screen read with OCR alone.

Between runs the benchmark waits a moment, as the agent does between
observations while the model thinks and acts; that is when the OCR module's
next Tesseract processes load their model.

Wall times depend on what else the machine runs, so the CPU time of each read
is printed too (ours plus the Tesseract processes', without their model
loading), with the wall time it means on idle cores, and the targets are
checked both ways.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "operator"))

FULL_TARGET = 0.8
RATIO_TARGET = 5.0

PROSE = """The quarterly report is due on Friday. Please review the attached figures before the meeting,
and note any changes to the forecast in the shared document. Revenue grew by 12 percent compared
with the same quarter last year, mostly from the new subscription plans. Costs stayed flat.
Marketing spent less than planned because two campaigns moved to the next quarter.
Open questions: the hiring plan for the support team, the renewal of the office lease in March,
and whether the travel budget should be split between the sales and engineering teams.
Action items for next week:
  1. Send the updated forecast to finance by Wednesday noon.
  2. Book the meeting room for the planning session on the 14th.
  3. Ask legal about the new supplier contract and the data processing terms.
  4. Prepare three slides about customer retention for the board.
The draft budget for 2025 is attached as a spreadsheet; comments are welcome until the end of the month.
Thanks to everyone who helped with the migration of the billing system last weekend."""

FILES = [("annual_report_2024.pdf", "2.4 MB"), ("budget_draft.xlsx", "88 KB"), ("team_photo.jpg", "3.1 MB"),
         ("meeting_notes.txt", "4 KB"), ("contract_supplier.docx", "120 KB"), ("logo_final.png", "56 KB"),
         ("invoice_1042.pdf", "64 KB"), ("invoice_1043.pdf", "66 KB"), ("roadmap.md", "12 KB"),
         ("customers_export.csv", "1.2 MB"), ("presentation_q3.pptx", "5.6 MB"), ("backup.tar.gz", "880 MB"),
         ("holiday_schedule.ods", "22 KB"), ("readme.txt", "1 KB"), ("design_mockups.fig", "14 MB"),
         ("passwords_DO_NOT_SHARE.kdbx", "9 KB"), ("travel_expenses.xlsx", "31 KB"),
         ("newsletter.html", "18 KB")]

MAIL = [("Maria Santos", "Re: planning session on the 14th", "09:12"),
        ("Billing", "Your invoice 1043 is ready", "08:55"),
        ("Tom Becker", "Slides for the board meeting", "Yesterday"),
        ("IT Support", "Scheduled maintenance this Saturday", "Yesterday"),
        ("Ana Lima", "Lunch on Thursday?", "Mon"),
        ("Travel Desk", "Your booking to Lisbon is confirmed", "Mon"),
        ("Newsletter", "Ten tips for better spreadsheets", "Sun"),
        ("Legal", "Supplier contract: comments", "Fri"),
        ("Kenji Watanabe", "Customer retention numbers", "Fri"),
        ("HR", "Holiday schedule for December", "Thu")]


def scene() -> None:
    """The Tk program that fills the screen (runs in its own process)."""
    import tkinter as tk
    from tkinter import ttk

    root = tk.Tk()
    root.title("Notes - quarterly.txt")
    root.geometry("900x420+20+20")
    text = tk.Text(root, wrap="word")
    text.insert("1.0", PROSE)
    text.pack(fill="both", expand=True)
    text.focus_set()

    files = tk.Toplevel(root)
    files.title("Files - Documents")
    files.geometry("420x520+950+20")
    lb = tk.Listbox(files)
    for name, size in FILES:
        lb.insert("end", f"{name:34} {size}")
    lb.pack(fill="both", expand=True)

    mail = tk.Toplevel(root)
    mail.title("Inbox (3 unread)")
    mail.geometry("860x300+20+480")
    tree = ttk.Treeview(mail, columns=("from", "subject", "date"), show="headings")
    for col, width in (("from", 180), ("subject", 520), ("date", 120)):
        tree.heading(col, text=col.title())
        tree.column(col, width=width)
    for row in MAIL:
        tree.insert("", "end", values=row)
    tree.pack(fill="both", expand=True)

    form = tk.Toplevel(root)
    form.title("Settings")
    form.geometry("480x360+1400+20")
    for row, (label, value) in enumerate([("Display name", "Maria Santos"), ("Email", "maria@example.org"),
                                          ("Time zone", "Europe/Lisbon"), ("Language", "English")]):
        tk.Label(form, text=label + ":").grid(row=row, column=0, sticky="w", padx=12, pady=8)
        entry = tk.Entry(form, width=28)
        entry.insert(0, value)
        entry.grid(row=row, column=1, padx=12)
    tk.Checkbutton(form, text="Send me a weekly summary").grid(row=4, column=0, columnspan=2, sticky="w",
                                                               padx=12)
    tk.Button(form, text="Cancel").grid(row=5, column=0, pady=16)
    tk.Button(form, text="Save changes").grid(row=5, column=1, pady=16)

    bar = tk.Toplevel(root)
    bar.title("Toolbar")
    bar.geometry("1000x60+900+600")
    for name in ("New", "Open", "Save", "Print", "Undo", "Redo", "Find", "Replace", "Help"):
        tk.Button(bar, text=name).pack(side="left", padx=4, pady=8)

    status = tk.Toplevel(root)
    status.title("Calendar")
    status.geometry("600x300+1300+700")
    for i, line in enumerate(["Monday 9:00  Stand-up meeting", "Monday 14:00  Call with the supplier",
                              "Tuesday 10:30  Design review", "Wednesday 12:00  Send forecast to finance",
                              "Thursday 13:00  Lunch with Ana", "Friday 16:00  Quarterly report due"]):
        tk.Label(status, text=line, anchor="w").grid(row=i, column=0, sticky="w", padx=16, pady=4)
    root.mainloop()


def children_cpu() -> float:
    """CPU seconds of our finished child processes (the Tesseract workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def model_load_cpu(workers: int) -> float:
    """CPU seconds a Tesseract process spends loading its model (before any page)."""
    from operator_agent.perception.ocr import TesseractPool

    before = children_cpu()
    pool = TesseractPool(workers=workers)
    pool.warm()
    time.sleep(1.0)  # loaded by now, then waiting for input
    pool.close()
    return (children_cpu() - before) / workers


def median_time(fn: Callable[[], object], runs: int, between: Callable[[], object] | None = None) -> float:
    times = []
    for _ in range(runs):
        if between is not None:
            between()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--workers", type=int, default=None, help="Tesseract processes (default: cores)")
    parser.add_argument("--scene", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scene:
        scene()
        return

    from operator_agent.desktop import Xvfb
    from operator_agent.executors.desktop import load_pyautogui
    from operator_agent.perception.controls import find_controls
    from operator_agent.perception.ocr import ScreenReader, TesseractPool
    from operator_agent.perception.screen import ScreenCapture, WindowList, to_gray

    with Xvfb(1920, 1080) as display:
        env = {**os.environ, "DISPLAY": display}
        app = subprocess.Popen([sys.executable, __file__, "--scene"], env=env)
        try:
            windows = WindowList(display)
            deadline = time.monotonic() + 30
            while sum(1 for w in windows.windows() if w.title) < 6:
                if time.monotonic() > deadline or app.poll() is not None:
                    raise SystemExit("the scene did not open its windows")
                time.sleep(0.05)
            capture = ScreenCapture(display)
            time.sleep(0.5)  # let Tk finish drawing
            reader = ScreenReader(pool=TesseractPool(workers=args.workers))
            reader.pool.warm()
            time.sleep(0.5)

            shot = median_time(capture.grab, args.runs)
            gray = to_gray(capture.grab())
            frames = [f for c in find_controls(gray) for f in c.frames()]
            controls_t = median_time(lambda: find_controls(gray), args.runs)

            def cold() -> None:
                reader.reset(cache=True)
                time.sleep(0.4)

            load_cpu = model_load_cpu(reader.pool.workers)
            cpu: list[tuple[float, float]] = []

            def full_read() -> None:
                own, kids = time.process_time(), children_cpu()
                reader.read(gray, frames)
                # The processes used were started (and loaded their model) before the read.
                tesseract = children_cpu() - kids - load_cpu * reader.pool.workers
                cpu.append((time.process_time() - own, tesseract))

            full = median_time(full_read, args.runs, between=cold)
            own_cpu = statistics.median(c[0] for c in cpu)
            tess_cpu = statistics.median(c[1] for c in cpu)
            lines_full = reader.read(gray, frames, full=True)
            pages = reader.stats.pages + reader.stats.cached

            gui = load_pyautogui(display)
            gui.click(300, 300)  # into the editor
            reader.reset(cache=True)
            reader.read(gray, frames)
            typed = iter("abcdefghijklmnopqrstuvwxyz" * 4)
            state: dict[str, object] = {}
            equal = []

            def change() -> None:
                gui.write(next(typed))
                time.sleep(0.4)
                g = to_gray(capture.grab())
                state["gray"], state["frames"] = g, [f for c in find_controls(g) for f in c.frames()]

            def incremental() -> None:
                state["lines"] = reader.read(state["gray"], state["frames"])  # type: ignore[arg-type]

            inc_times, inc_cpu = [], []
            windows_read = []
            for _ in range(args.runs):
                change()
                t, own, kids = time.perf_counter(), time.process_time(), children_cpu()
                incremental()
                inc_times.append(time.perf_counter() - t)
                used = min(reader.pool.workers, reader.stats.pages)  # processes this read took
                inc_cpu.append(time.process_time() - own + children_cpu() - kids - load_cpu * used)
                windows_read.append(sum(w.area for w in reader.stats.windows))
                check = ScreenReader(pool=reader.pool)
                equal.append(check.read(state["gray"], state["frames"], full=True) == state["lines"])  # type: ignore[arg-type]
            inc = statistics.median(inc_times)
            inc_idle = statistics.median(inc_cpu)
        finally:
            app.terminate()
            app.wait(timeout=10)

    screen_area = 1920 * 1080
    load = os.getloadavg()
    print(f"desktop perception on 1920x1080 ({os.cpu_count()} cores, "
          f"tesseract workers: {reader.pool.workers}), "
          f"median of {args.runs} runs")
    print(f"  screenshot (mss)                {shot * 1000:7.1f} ms")
    print(f"  controls (OpenCV)               {controls_t * 1000:7.1f} ms")
    print(f"  full OCR read                   {full * 1000:7.1f} ms   ({len(lines_full)} lines from {pages} "
          "text boxes)")
    idle = own_cpu + tess_cpu / reader.pool.workers
    print(f"    CPU of a full read            {(own_cpu + tess_cpu) * 1000:7.1f} ms   (this process "
          f"{own_cpu * 1000:.0f} ms, Tesseract {tess_cpu * 1000:.0f} ms in {reader.pool.workers} processes: "
          f"on idle cores about {idle * 1000:.0f} ms)")
    print(f"  incremental read after a change {inc * 1000:7.1f} ms   (segmented "
          f"{100 * statistics.median(windows_read) / screen_area:.1f}% of the screen; "
          f"equal to a full read: {sum(equal)}/{len(equal)})")
    print(f"    CPU of an incremental read    {inc_idle * 1000:7.1f} ms")
    print(f"  load average {load[0]:.1f} at the end (other programs compete for the cores: wall times "
          "grow with it)")
    verdict_full = "PASS" if full <= FULL_TARGET else "MISS"
    verdict_inc = "PASS" if inc * RATIO_TARGET <= full else "MISS"
    print(f"  {verdict_full}  full read <= {FULL_TARGET:.1f} s ({full * 1000:.0f} ms)")
    print(f"  {verdict_inc}  incremental read <= full read / {RATIO_TARGET:g} "
          f"({inc * 1000:.0f} ms vs {full * 1000 / RATIO_TARGET:.0f} ms)")
    # The same targets from CPU time, which other programs on the machine do not inflate.
    est_full = "PASS" if idle <= FULL_TARGET else "MISS"
    est_inc = "PASS" if inc_idle * RATIO_TARGET <= idle else "MISS"
    print(f"  {est_full}  (from CPU time) full read on idle cores {idle * 1000:.0f} ms "
          f"<= {FULL_TARGET:.1f} s")
    print(f"  {est_inc}  (from CPU time) incremental {inc_idle * 1000:.0f} ms "
          f"<= {idle * 1000 / RATIO_TARGET:.0f} ms")
    reader.pool.close()


def tree_observation(runs: int) -> None:
    """A whole observation of GTK programs (mousepad, galculator) on 1920x1080: read through
    their accessibility trees (OCR reads only what no tree covers), against OCR alone."""
    import shutil

    from operator_agent.desktop import DesktopPerceiver, SessionBus, Xvfb
    from operator_agent.perception.atspi import Accessibility
    from operator_agent.perception.screen import WindowList

    programs = [p for p in ("mousepad", "galculator") if shutil.which(p)]
    if not programs or not shutil.which("dbus-daemon"):
        print("  observation with the tree: not run (needs mousepad or galculator, and dbus: "
              "bash scripts/install.sh --test)")
        return
    with Xvfb(1920, 1080) as display, SessionBus(display) as bus:
        env = {**os.environ, **SessionBus.env(display, bus), "GSETTINGS_BACKEND": "memory"}
        # openbox places the windows side by side, as a person's desktop has them.
        wm = [["openbox"]] if shutil.which("openbox") else []
        procs = [subprocess.Popen(p, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for p in [*wm, *([p] for p in programs)]]
        try:
            tree = Accessibility.connect(display, session_bus=bus)
            deadline = time.monotonic() + 30
            while len([t for t in tree.windows() if len(t.nodes) > 5]) < len(programs):
                if time.monotonic() > deadline:
                    raise SystemExit("the GTK programs did not publish their trees")
                time.sleep(0.05)
            windows = WindowList(display)
            time.sleep(0.5)  # let them finish drawing
            with_tree = DesktopPerceiver(display, tree=tree)
            alone = DesktopPerceiver(display)
            def cold() -> None:  # nothing read before: every text box is read again
                with_tree.reader.reset(cache=True)
                alone.reader.reset(cache=True)
                time.sleep(0.4)

            snapshot = median_time(tree.windows, runs)
            t_tree = median_time(with_tree.observe, runs, between=cold)
            t_alone = median_time(alone.observe, runs, between=cold)
            t_again = median_time(alone.observe, runs)  # the same screen again: OCR's cache
            n_tree, n_alone = len(with_tree.observe().elements), len(alone.observe().elements)
            named = sum(1 for e in with_tree.last.elements if e.attributes.get("via") == "accessibility")
            titles = ", ".join(w.title for w in windows.windows() if w.title)
            windows.close()
            with_tree.close()  # closes the tree too
            alone.close()
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=10)
    print(f"  whole observation of {titles} (median of {runs} runs)")
    print(f"    the accessibility tree alone  {snapshot * 1000:7.1f} ms")
    print(f"    with the tree (OCR for the rest) {t_tree * 1000:6.1f} ms   ({n_tree} elements, {named} "
          "from the tree)")
    print(f"    OCR alone, full read          {t_alone * 1000:7.1f} ms   ({n_alone} elements)")
    print(f"    OCR alone, nothing changed    {t_again * 1000:7.1f} ms   (incremental: every box cached)")
    print(f"    ratio: with the tree / OCR alone (full) = {t_tree / t_alone:.2f}")


if __name__ == "__main__":
    main()
    tree_observation(int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 10)
