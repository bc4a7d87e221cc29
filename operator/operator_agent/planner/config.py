"""Which model to talk to, resolved from flags first, then the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..protocols import ConfigError

# Local OpenAI-compatible servers (vLLM, Ollama, llama.cpp) ignore the key, but
# the openai client insists on having one.
DUMMY_API_KEY = "not-needed"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    model: str
    base_url: str | None = None  # None: api.openai.com
    api_key: str = field(default=DUMMY_API_KEY, repr=False)  # never printed or logged
    vision: bool = False  # send a screenshot with each step
    timeout: float = 60.0  # seconds per HTTP request
    max_attempts: int = 4  # tries per request, counting the first

    @classmethod
    def resolve(cls, model: str | None = None, base_url: str | None = None,
                api_key: str | None = None, vision: bool | None = None, *,
                env: Mapping[str, str] | None = None) -> ModelConfig:
        """Flags win over OPERATOR_MODEL, OPENAI_BASE_URL, OPENAI_API_KEY, OPERATOR_VISION."""
        env = os.environ if env is None else env
        model = model or env.get("OPERATOR_MODEL", "").strip() or None
        base_url = base_url or env.get("OPENAI_BASE_URL", "").strip() or None
        api_key = api_key or env.get("OPENAI_API_KEY", "").strip() or None
        if not model:
            raise ConfigError(
                "no model configured: set OPERATOR_MODEL (and OPENAI_API_KEY, or OPENAI_BASE_URL for a "
                "local OpenAI-compatible server such as vLLM or Ollama), or pass --model/--base-url")
        if not api_key:
            if not base_url:
                raise ConfigError(
                    f"model {model!r} needs OPENAI_API_KEY (or set OPENAI_BASE_URL/--base-url "
                    "to use a local OpenAI-compatible server)")
            api_key = DUMMY_API_KEY
        if vision is None:
            vision = _parse_bool(env.get("OPERATOR_VISION", ""), "OPERATOR_VISION")
        return cls(model=model, base_url=base_url, api_key=api_key, vision=vision)


def _parse_bool(value: str, name: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ConfigError(f"{name}={value!r} is not understood: use 1/true or 0/false")
