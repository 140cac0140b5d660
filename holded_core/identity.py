"""One identity per text: how the writer compares the texts it matches on and the texts it writes.

Invariants (DESIGN.md rule 7, "two texts that differ only in case or Unicode form are one identity"):

- Every matching key (a contact's `customId`, the `holded-connector-id` external id, natural keys such
  as an employee's e-mail or a funnel's name, the field named in `matching_keys`) is compared through
  `identity`: trimmed, Unicode-normalised and case-folded. `Ana.Prueba@Example.COM ` and
  `ana.prueba@example.com` are one company; "José" typed with a combining accent (e + U+0301) and with
  the precomposed "é" are one name.
- Text the connector writes is NFC (`nfc`), Unicode's composed form, which is what Holded's web app
  stores when a user types.
- A difference that is only one of Unicode form is no change (`same_value`), so a record whose text is
  equal to Holded's but for its composition is `unchanged` and sends nothing. A difference in case
  *is* a change: case-folding is for matching keys only, so a user who capitalises a name, or an
  e-mail, gets it written.
"""

from __future__ import annotations

import unicodedata
from typing import Any


def identity(value: Any) -> str | None:
    """The form a matching key is compared in: trimmed, NFC and case-folded (`str.casefold`).

    Args:
        value: any key value; non-text values (numbers) are compared as their text.

    Returns:
        The normalised text, or None for None and for text that is empty once trimmed (no key).

    Case folding follows Unicode's canonical caseless match (fold the decomposed form, then compose):
    "STRASSE" and "straße" fold to the same key, and so do the two spellings of "Ångström" (U+212B or
    U+00C5 for the A).
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())


def nfc(value: Any) -> Any:
    """`value` with every text in it in Unicode's composed form (NFC), through lists and objects.

    Args:
        value: a request body or any part of one (text, numbers, booleans, lists, dicts).

    Returns:
        The same structure, texts (and dict keys) composed; other values as they are.
    """
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {nfc(k): nfc(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [nfc(v) for v in value]
    return value


def same_value(new: Any, old: Any) -> bool:
    """Whether writing `new` over Holded's `old` would change nothing a user can see.

    Args:
        new: the record's value; old: Holded's current value (read through the mapping).

    Returns:
        True when they are equal once both are NFC: a difference of Unicode composition only is no
        change, a difference of case (or anything else) is.
    """
    return nfc(new) == nfc(old)
