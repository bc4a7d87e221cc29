"""The permission layer: every action passes a code check before it reaches a page.

    policy.py        the person's TOML policy (+ flag overrides)
    detectors/       navigation, sensitive sites, payments, account changes, secrets
    approvals.py     what a person is asked, what a yes is bound to, who answers
    policy_gate.py   PolicyGate: the detectors composed into one Verdict
    audit.py         append-only SQLite log of every decision
    ledger.py        daily spending from approved purchases
    vault.py         secrets bound to origins, filled in from placeholders
    gate.py          AllowEverythingUnsafe (explicit opt-out) and the simple approvers

Page text can never grant a permission: it can only give more reasons to stop.
"""
