"""English words with places for values, which the app writes in its reader's language.

``exports`` knows no Flask, so it cannot translate; yet some of what it says is for a
person (why a SEPA file cannot be made from a company's IBAN). It says it as ``Words``: the
English template, marked ``N_`` for the app's catalogues (babel.cfg takes ``exports/``), and
its values. ``str()`` gives the English (logs, tests); ``vouchers.i18n.said`` gives the
reader's language, translating any value that is itself ``Words``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


def N_(text: str) -> str:
    """Mark ``text`` for the catalogues; it is translated where it is shown."""
    return text


@dataclass(frozen=True, eq=False)  # its values are a dict: compared by identity
class Words:
    template: str
    values: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.template % {name: str(value) for name, value in self.values.items()}


def words(template: str, **values: object) -> Words:
    return Words(template, values)


__all__ = ["N_", "Words", "words"]
