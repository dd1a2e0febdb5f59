"""The password policy: what a new password must not be.

Registration, invitations, password changes and the CLI's create-user all ask
``password_problem``; the forms ask it too, to show the reason next to the field.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from flask_babel import gettext as _

from .wording import N_

MIN_PASSWORD_LENGTH = 12
# Hashing a very long input is slow on purpose; a cap keeps it from being a lever for
# exhausting the workers.
MAX_PASSWORD_LENGTH = 256

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"

# Words this site's users are likely to build a password from.
CONTEXT_WORDS = frozenset({
    "voucher", "vouchers", "grant", "grants", "interreg", "funding", "programme", "program",
    "password", "passwort", "wachtwoord", "motdepasse", "contrasena", "adgangskode",
    "welcome", "letmein", "admin", "login", "secret", "changeme", "biotech", "medtech",
})
# Keyboard rows and runs: a password that is a stretch of one is guessed at once.
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm", "azertyuiopqsdfghjklmwxcvbn",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "qazwsxedcrfvtgbyhnujmikolp",
    "1q2w3e4r5t6y7u8i9o0p", "zaq1xsw2cde3vfr4bgt5nhy6mju7",
)
_LEET = [str.maketrans({"@": "a", "4": "a", "0": "o", "1": i_or_l, "!": "i", "3": "e",
                        "$": "s", "5": "s", "7": "t", "+": "t", "9": "g", "8": "b"})
         for i_or_l in ("i", "l")]
_ENDS = re.compile(r"^[\W\d_]+|[\W\d_]+$")

COMMON_MESSAGE = N_("This password is one of the most common ones, which attackers try "
                    "first. Choose another: several unrelated words make a strong one.")
PATTERN_MESSAGE = N_("This password follows an easy pattern (a keyboard row, a run of "
                     "letters or digits, or a repetition). Choose another.")


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _is_sequence(text: str) -> bool:
    if len(text) < 4:
        return False
    # Tripled so a run may wrap ("7890123"), reversed for runs typed backwards.
    return any(text in seq * 3 or text in seq[::-1] * 3 for seq in _SEQUENCES)


def _repeated_unit(text: str) -> str | None:
    """The shortest unit that ``text`` repeats ("abcabc" -> "abc"), or None."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return None


def _is_weak_word(word: str) -> bool:
    candidates = {word} | {word.translate(table) for table in _LEET}
    return any(c in common_passwords() or c in CONTEXT_WORDS for c in candidates)


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why a password is refused, or None.

    Length first, then the checks that catch what attackers try first: lists of common
    passwords, words of this site, keyboard runs, repetitions and the user's own name
    or e-mail address, also when decorated with digits, symbols or l33t spelling.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Use at least %(count)s characters.", count=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Use at most %(count)s characters.", count=MAX_PASSWORD_LENGTH)
    lowered = password.lower()
    if len(set(lowered)) < 4:
        return _("Use more different characters.")
    local = email.split("@")[0].lower()
    if local and len(local) >= 4 and local in lowered:
        return _("Do not use your e-mail address in your password.")
    # The password without the digits and symbols people add at either end.
    core = _ENDS.sub("", lowered)
    if lowered in common_passwords() or (core and _is_weak_word(core)):
        return _(COMMON_MESSAGE)
    squeezed = re.sub(r"[\W_]+", "", lowered)
    if _is_sequence(lowered) or _is_sequence(core) or _is_sequence(squeezed):
        return _(PATTERN_MESSAGE)
    for text in (lowered, core):
        unit = _repeated_unit(text)
        if unit is not None and (len(unit) <= 4 or _is_weak_word(unit)):
            return _(PATTERN_MESSAGE)
    rest = core
    for part in sorted(re.findall(r"\w{3,}", name.lower()), key=len, reverse=True):
        rest = rest.replace(part, "")
    if core and name.strip() and not re.sub(r"[\W\d_]+", "", rest):
        return _("Do not build your password from your name.")
    return None
