"""A small Qt 6 form (PySide6): a labelled field, a checkbox and a button. Qt publishes its
widgets on the accessibility bus once the session says accessibility is on."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QCheckBox, QFormLayout, QLabel, QLineEdit, QPushButton, QWidget

app = QApplication(sys.argv)
window = QWidget()
window.setWindowTitle("Qt Order Form")
form = QFormLayout(window)
city = QLineEdit()
label = QLabel("&City")
label.setBuddy(city)  # the label names the field, as a person reads it
form.addRow(label, city)
form.addRow(QCheckBox("Gift wrap"))
send = QPushButton("Send it")
send.clicked.connect(lambda: window.setWindowTitle(f"Sent: {city.text()}"))
form.addRow(send)
window.show()
app.exec()
