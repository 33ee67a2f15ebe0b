"""A failed reply's error, worded for whoever reads it.

Providers word their errors for the person who runs the server: the command or the setting that fixes them
(`ollama serve`, `OLLAMA_BASE_URL`, "check the key in the settings"). That is stored with the reply, and an
administrator reads it as it is; anyone else reads what went wrong without the fix they cannot apply, and is told to
ask their administrator (issue 29). Stored replies keep only their text (an import, an older reply), so the advice is
recognised in the text itself, where the providers put it: after "; ", or as a last sentence.
"""

from __future__ import annotations

import re

ASK_ADMIN = "Ask your administrator to fix it."
_OPERATOR_WORDS = re.compile(r"`[^`]+`|\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b|\bpip install\b")
"""A command in backticks, or a setting's name (`OLLAMA_BASE_URL`, `CHATUI_LOCAL_CONTEXT`)."""
_ADVICE = re.compile(
    r"(?:; |\. )(?=start it|pull it|check |set |install |pick another model or set|start a new chat, or raise)"
    r"|\. Check the key in the settings\.?$",
    re.IGNORECASE,
)
"""Where a provider's operator advice begins."""


def error_for_reader(error: str | None, *, admin: bool) -> str | None:
    """`error` for an administrator; for anyone else, what went wrong, then `ASK_ADMIN` when the error carried advice
    for the operator (an error without any, "the stream broke", is the same for everyone)."""
    if admin or not error:
        return error
    advice = _ADVICE.search(error)
    if advice is None and not _OPERATOR_WORDS.search(error):
        return error
    what = error[: advice.start()] if advice is not None else error
    what = what.strip().rstrip(".;: ")
    if not what or _OPERATOR_WORDS.search(what):
        what = "the model cannot answer now"
    return f"{what[0].upper()}{what[1:]}. {ASK_ADMIN}"
