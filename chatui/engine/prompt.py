"""What a model is asked with: the path above the reply, cut to a budget of characters, then the new message."""

from __future__ import annotations

from providers import ChatMessage


def history_budget(prompt_max_chars: int, content: str | None) -> int:
    """How many characters of history fit beside the new message (`EngineOptions.prompt_max_chars` in all)."""
    return max(0, prompt_max_chars - len(content or ""))


def build_prompt(history: list[tuple[str, str]], content: str | None) -> list[ChatMessage]:
    """What the model sees: every turn of the path that has text (partial replies included), in order, then the new
    user message (None: a regenerate answers the path as it is).

    A history cut to the prompt's budget may begin with a reply; it then begins at the next user message instead
    (Anthropic refuses a conversation that opens with the assistant, and a reply without its question misleads).
    """
    turns = [
        ChatMessage(role, text)  # type: ignore[arg-type]
        for role, text in history
        if text and role in ("user", "assistant", "system")
    ]
    first_user = next((i for i, turn in enumerate(turns) if turn.role != "assistant"), len(turns))
    prompt = turns[first_user:]
    if content is not None:
        prompt.append(ChatMessage("user", content))
    return prompt
