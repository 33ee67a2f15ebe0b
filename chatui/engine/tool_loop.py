"""The engine's side of tools: what a reply's model is offered, and running the calls it makes.

    model ─ ToolCalls ─▶ run (independent calls at once; `approval: always` ones wait for Allow / Deny) ─▶ results
          ◀─────────────────────────── the assistant turn and the results, asked again ◀──┘

Every call ends in a result the model reads: an unknown tool, arguments that are not JSON, a denial, a timeout, a
server that is down or the step limit are all results with `is_error`, never a failed reply. Stop cancels the
calls in flight (their steps end `interrupted`). A result is untrusted text: it is only ever sent to the model and
shown as text; nothing in it can approve a call or reach another reply.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from chatui.engine.generation import Generation
from chatui.engine.tool_steps import INTERRUPTED, ToolStep
from chatui.tools import ToolInfo, ToolRegistry
from providers.tools import ToolCall, ToolResultPart, ToolSpec

APPROVAL_SECONDS = 600.0
"""How long a call waits for Allow / Deny; then it is denied (the reply cannot wait for ever on a closed tab)."""
DENIED = "The user denied this tool call. Do not call it again; answer without it."
STEP_LIMIT = "The limit of {steps} tool steps for one reply is reached: answer now with what you have, without tools."


@dataclass(frozen=True, slots=True)
class Offer:
    """The tools one reply may call: as the provider is sent them, and by the name the model calls them."""

    specs: tuple[ToolSpec, ...] = ()
    by_name: dict[str, ToolInfo] = field(default_factory=dict)


def model_name(tool: ToolInfo, taken: Iterable[str]) -> str:
    """`server:tool` as a name every API takes (`^[A-Za-z0-9_-]{1,64}$`), unique among `taken`."""
    base = re.sub(r"[^A-Za-z0-9_-]", "_", f"{tool.server}__{tool.name}")[:64]
    name, n, used = base, 1, set(taken)
    while name in used:
        n += 1
        name = f"{base[: 64 - len(str(n)) - 1]}_{n}"
    return name


class ToolRunner:
    def __init__(self, registry: ToolRegistry, max_steps: int) -> None:
        self.registry = registry
        self.max_steps = max_steps

    def offer(self, selection: Sequence[str]) -> Offer:
        """The selected tools that can be called now (a server that is down offers none)."""
        by_name: dict[str, ToolInfo] = {}
        for tool in self.registry.enabled(selection):
            by_name[model_name(tool, by_name)] = tool
        specs = tuple(ToolSpec(name, tool.description, tool.input_schema) for name, tool in by_name.items())
        return Offer(specs, by_name)

    async def run(
        self, generation: Generation, calls: Sequence[ToolCall], offer: Offer, *, refusal: str | None = None
    ) -> list[ToolResultPart]:
        """Run one turn's calls at once (or answer each with `refusal`); their results, in the calls' order."""
        steps, turn = [], len(generation.steps)
        for call in calls:
            tool = offer.by_name.get(call.name)
            name = tool.id if tool else call.name
            step = ToolStep(call.call_id, name, dict(call.arguments), len(generation.chunks), turn)
            generation.steps.append(step)
            generation.tool_event(
                {"type": "tool_call", "call_id": step.call_id, "name": step.name, "arguments": step.arguments}
            )
            steps.append((call, tool, step))
        await asyncio.gather(*(self._one(generation, call, tool, step, refusal) for call, tool, step in steps))
        return [ToolResultPart(call.call_id, call.name, step.result or "", step.is_error) for call, _, step in steps]

    async def _one(
        self, generation: Generation, call: ToolCall, tool: ToolInfo | None, step: ToolStep, refusal: str | None
    ) -> None:
        if refusal is not None:
            return self._end(generation, step, refusal, is_error=True)
        if tool is None:
            return self._end(generation, step, f"There is no tool named {call.name[:64]!r}.", is_error=True)
        if call.arguments_error is not None:
            return self._end(generation, step, f"The call was not made: {call.arguments_error}.", is_error=True)
        if tool.approval == "always" and not await self._approved(generation, step):
            return self._end(generation, step, DENIED, is_error=True)
        step.state, began = "running", time.monotonic()
        outcome = await self.registry.call(tool.id, dict(call.arguments), user_id=generation.user_id)
        step.seconds = round(time.monotonic() - began, 3)
        self._end(generation, step, outcome.content, is_error=outcome.is_error)

    async def _approved(self, generation: Generation, step: ToolStep) -> bool:
        """Ask the reply's readers (`tool_approval`); wait for its owner's answer (`GenerationEngine.approve`)."""
        decision: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        generation.approvals[step.call_id] = decision
        step.state = "approval"
        generation.tool_event(
            {"type": "tool_approval", "call_id": step.call_id, "name": step.name, "arguments": step.arguments}
        )
        try:
            return await asyncio.wait_for(decision, APPROVAL_SECONDS)
        except TimeoutError:
            return False
        finally:
            generation.approvals.pop(step.call_id, None)

    @staticmethod
    def _end(generation: Generation, step: ToolStep, content: str, *, is_error: bool) -> None:
        step.state, step.result, step.is_error = "done", content, is_error
        generation.tool_event(
            {"type": "tool_result", "call_id": step.call_id, "content": content, "is_error": is_error}, step.seconds
        )


def interrupt(generation: Generation) -> None:
    """The reply was stopped or shut down mid-call: each call without a result ends `interrupted`."""
    for step in generation.steps:
        if step.result is None:
            step.state, step.result, step.is_error = "interrupted", INTERRUPTED, True
            generation.tool_event(
                {"type": "tool_result", "call_id": step.call_id, "content": INTERRUPTED, "is_error": True}
            )


def waiting(generation: Generation | None, user_id: str, call_id: str) -> bool:
    """Whether `call_id` waits for Allow / Deny in this reply of `user_id` (a mirror's steps tell the same of a reply
    another instance writes)."""
    if generation is None or generation.user_id != user_id:
        return False
    return any(step.call_id == call_id and step.state == "approval" for step in generation.steps)


def approve(generation: Generation, call_id: str, allow: bool) -> bool:
    """Answer a call waiting for approval in this reply; False if none waits under `call_id`."""
    decision = generation.approvals.get(call_id)
    if decision is None or decision.done():
        return False
    decision.set_result(allow)
    return True
