"""Which model to talk to, and how, resolved from flags first, then the environment."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from ..protocols import ConfigError

# Local OpenAI-compatible servers (vLLM, Ollama, llama.cpp) ignore the key, but
# the openai client insists on having one.
DUMMY_API_KEY = "not-needed"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

# chat: /v1/chat/completions, which every OpenAI-compatible server speaks;
# responses: /v1/responses, OpenAI's newer API (also vLLM and some hosted services).
ModelAPI = Literal["chat", "responses"]
# How the reply's JSON is asked for. auto: a strict json_schema, then plain JSON if the
# server refuses it; tools: the decision as a forced function call, then plain JSON.
OutputSetting = Literal["auto", "json_schema", "tools", "json"]


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    model: str
    base_url: str | None = None  # None: api.openai.com
    api_key: str = field(default=DUMMY_API_KEY, repr=False)  # never printed or logged
    vision: bool = False  # send a screenshot with each step
    timeout: float = 60.0  # seconds per HTTP request (OPERATOR_MODEL_TIMEOUT)
    max_attempts: int = 4  # tries per request, counting the first (OPERATOR_MODEL_RETRIES + 1)
    api: ModelAPI = "chat"  # OPERATOR_MODEL_API
    output: OutputSetting = "auto"  # OPERATOR_MODEL_OUTPUT

    @property
    def retries(self) -> int:
        return self.max_attempts - 1

    @classmethod
    def resolve(cls, model: str | None = None, base_url: str | None = None,
                api_key: str | None = None, vision: bool | None = None, *,
                timeout: float | None = None, retries: int | None = None, api: str | None = None,
                output: str | None = None, env: Mapping[str, str] | None = None) -> ModelConfig:
        """Flags win over OPERATOR_MODEL, OPENAI_BASE_URL, OPENAI_API_KEY, OPERATOR_VISION,
        OPERATOR_MODEL_TIMEOUT, OPERATOR_MODEL_RETRIES, OPERATOR_MODEL_API, OPERATOR_MODEL_OUTPUT."""
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
        if timeout is None:
            timeout = _parse_number(env.get("OPERATOR_MODEL_TIMEOUT", ""), "OPERATOR_MODEL_TIMEOUT", 60.0)
        if not (math.isfinite(timeout) and timeout > 0):
            raise ConfigError(f"the model timeout must be more than 0 seconds, not {timeout:g} "
                              "(OPERATOR_MODEL_TIMEOUT)")
        if retries is None:
            retries = int(_parse_number(env.get("OPERATOR_MODEL_RETRIES", ""), "OPERATOR_MODEL_RETRIES", 3,
                                        whole=True))
        if retries < 0:
            raise ConfigError(f"the model retry count must be 0 or more, not {retries} "
                              "(OPERATOR_MODEL_RETRIES)")
        api = _choice(api or env.get("OPERATOR_MODEL_API", ""), "OPERATOR_MODEL_API", get_args(ModelAPI))
        output = _choice(output or env.get("OPERATOR_MODEL_OUTPUT", ""), "OPERATOR_MODEL_OUTPUT",
                         get_args(OutputSetting))
        return cls(model=model, base_url=base_url, api_key=api_key, vision=vision, timeout=timeout,
                   max_attempts=retries + 1, api=cast(ModelAPI, api), output=cast(OutputSetting, output))


def _parse_bool(value: str, name: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ConfigError(f"{name}={value!r} is not understood: use 1/true or 0/false")


def _parse_number(value: str, name: str, default: float, *, whole: bool = False) -> float:
    v = value.strip()
    if not v:
        return default
    try:
        return int(v) if whole else float(v)
    except ValueError:
        kind = "a whole number" if whole else "a number of seconds"
        raise ConfigError(f"{name}={value!r} is not understood: use {kind}") from None


def _choice(value: str, name: str, allowed: tuple[str, ...]) -> str:
    """One of `allowed` (the first when empty), or a ConfigError naming them."""
    v = value.strip().lower() or allowed[0]
    if v not in allowed:
        raise ConfigError(f"{name}={value!r} is not understood: use one of {', '.join(allowed)}")
    return v


def add_model_flags(p: argparse.ArgumentParser, *, vision: bool = True) -> None:
    """The model flags of every command that may call a model (resolve() reads them)."""
    p.add_argument("--model", help="model name (default: $OPERATOR_MODEL)")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL)")
    p.add_argument("--api-key", help="API key (default: $OPENAI_API_KEY)")
    if vision:
        p.add_argument("--vision", action="store_true", default=None,
                       help="send a marked screenshot to the model each step (vision models)")
        p.add_argument("--computer-use", action="store_true",
                       help="a computer-use model (Responses API computer_use_preview tool) acts in "
                            "pixels; its safety checks are put to you")
    p.add_argument("--model-api", choices=get_args(ModelAPI),
                   help="chat (Chat Completions, every server) or responses "
                        "(default: $OPERATOR_MODEL_API, chat)")
    p.add_argument("--model-output", choices=get_args(OutputSetting),
                   help="how the decision's JSON is asked for (default: $OPERATOR_MODEL_OUTPUT, auto)")
    p.add_argument("--model-timeout", type=float, metavar="SECONDS",
                   help="seconds per model request (default: $OPERATOR_MODEL_TIMEOUT, 60)")
    p.add_argument("--model-retries", type=int, metavar="N",
                   help="retries of a failed model request (default: $OPERATOR_MODEL_RETRIES, 3)")


def model_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of ModelConfig.resolve() from add_model_flags' flags."""
    return {"model": args.model, "base_url": args.base_url, "api_key": args.api_key,
            "vision": getattr(args, "vision", None), "timeout": args.model_timeout,
            "retries": args.model_retries, "api": args.model_api, "output": args.model_output}
