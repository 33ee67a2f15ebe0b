"""The one rule for usernames, everywhere a name is typed in: sign-up, sign-in, a password change, an administrator's
reset and the command line.

A username is NFKC-normalised (so the Kelvin sign "K" is a "K", fullwidth letters are letters) and then must be
3 to 32 ASCII letters, digits, '.', '_' or '-'; names compare case-insensitively (casefold).
"""

from __future__ import annotations

import re
import unicodedata

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
USERNAME_RULE = "The username must be 3 to 32 letters, digits, '.', '_' or '-'."
NAME_INPUT_MAX = 64
"""The longest name read at all, as typed (before NFKC, which may shorten it): longer ones match no account."""


def display_username(username: str) -> str:
    """The name as stored and shown: NFKC, without surrounding blanks."""
    return unicodedata.normalize("NFKC", username).strip()


def username_key(username: str) -> str:
    """What names are compared by: NFKC, then casefold ("Kevin" with a Kelvin sign is "kevin")."""
    return display_username(username).casefold()
