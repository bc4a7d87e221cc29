"""Test helpers: the fake OpenAI-compatible server (the only thing the tests fake), helpers
for scripted models, and the pytest plugin that serves the practice sites."""
