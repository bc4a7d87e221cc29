"""Scripted replies shipped with the suites: step functions that read the observation
text (as a model reads it, to find element indexes) and return the next decision.
They prove the harness end to end without a model; suites reference them as
`script: {call: operator_bench.solutions.<module>:<function>, with: {...}}`."""
