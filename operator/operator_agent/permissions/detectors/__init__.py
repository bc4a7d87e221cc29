"""Detectors: pure functions of (action, observation) that say what an action
would do: pay, change an account, go somewhere, enter a sensitive site.

They read the page only to find MORE reasons to stop: nothing a page says can
turn a detected action into an allowed one. The policy gate decides.
"""
