"""A model judge for open answers (the `judged` check): asked once per check after the run,
through the package's ModelClient; its verdict and its reason are the check's result.

The judge reads the task, the rubric and the agent's answer, never the page: what a site
says cannot argue for the agent. Its model is the evaluation's own (`--model`,
`--base-url`), else the environment's (OPERATOR_MODEL, OPENAI_BASE_URL); with none, the
check fails saying it was not judged: a result nobody judged is not a pass.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..planner.adapters import Turn
from ..planner.client import ModelClient
from ..planner.config import ModelConfig
from ..planner.parsing import parse_reply
from ..planner.schema import strict_model_schema
from ..protocols import ConfigError, PlannerError
from ..types import Usage

SYSTEM = """You grade an assistant's answer to a task against a rubric. Be strict: the answer
passes only if it meets the rubric as written; an answer that lists several possibilities,
hedges between them, or does not commit fails. Reply with JSON: {"ok": true|false,
"reason": "<one sentence: why>"}."""


class JudgeVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ok: bool
    reason: str = Field(max_length=400)


def judge_config(model: str | None, base_url: str | None) -> ModelConfig | None:
    try:
        return ModelConfig.resolve(model, base_url)
    except ConfigError:
        return None


async def judge(config: ModelConfig | None, *, goal: str, rubric: str, answer: str | None,
                usage: Usage) -> tuple[bool, str]:
    """(verdict, reason); never raises for the model's sake: a failure is a failed check."""
    if config is None:
        return False, "not judged: no model for the judge (--model/--base-url or $OPERATOR_MODEL)"
    if not answer:
        return False, "no answer to judge"
    text = f"TASK:\n{goal}\n\nRUBRIC:\n{rubric}\n\nANSWER:\n{answer}"
    client = ModelClient(config, timeout=min(config.timeout, 60.0), max_attempts=2)
    try:
        reply = await client.ask(system=lambda structured: SYSTEM, turns=[Turn(role="user", text=text)],
                                 schema_name="verdict", function="record_verdict",
                                 schema=strict_model_schema(JudgeVerdict), usage=usage)
        verdict = parse_reply(JudgeVerdict, reply.text)
    except (PlannerError, ValueError) as exc:
        return False, f"not judged: the judge failed ({str(exc)[:200]})"
    finally:
        await client.aclose()
    return verdict.ok, f"judge ({config.model}): {verdict.reason}"
