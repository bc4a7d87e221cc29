"""A program that maps its window, titled, then paints it only after a while (as a slow
dialog does): until then the screen shows what was under it. Usage: slow_window_app.py TITLE"""

from __future__ import annotations

import sys
import time

from Xlib import X, display

PAINT_AFTER = 0.8  # seconds between mapping the window and painting it (the program is slow)

d = display.Display()
screen = d.screen()
# No background: the X server paints nothing when the window is mapped.
win = screen.root.create_window(300, 200, 400, 240, 0, screen.root_depth, X.InputOutput, X.CopyFromParent,
                                background_pixmap=X.NONE, event_mask=X.ExposureMask | X.StructureNotifyMask)
win.set_wm_name(sys.argv[1])
win.map()
d.sync()
time.sleep(PAINT_AFTER)
gc = win.create_gc(foreground=0xFF8000)  # orange on a 24-bit TrueColor screen
win.fill_rectangle(gc, 0, 0, 400, 240)
d.sync()
while True:  # repaint whatever is exposed, until killed
    event = d.next_event()
    if event.type == X.Expose:
        win.fill_rectangle(gc, 0, 0, 400, 240)
        d.sync()
