"""One record live from Holded, and a contact search, as unified records (not from a synced copy).

`Lookup(config)` is the public entry point (`from holded_core import Lookup`):

- `get(model, id)` reads the record by id through the config's API dialect (an embedded child,
  `<parentId>:<childId>`, through its parent) and returns it exactly as the unified stream emits it;
- `search(model, text)` finds contacts by name with Holded API v2's `GET /v2/contacts/search?name=`
  (a prefix of the name, case and accents ignored: shared/holded-api/v2/README.md, "Shapes"), and
  returns the `genericContact` or `genericCompany` records of the matches. API v1 has no search:
  with a v1 key it lists the contacts and keeps those whose name starts with the text, alike.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from holded_core.client import HoldedClient
from holded_core.errors import HoldedConfigError, HoldedNotFoundError
from holded_core.mappings import is_person
from holded_core.settings import parse_settings
from holded_core.streams import StreamSpec

SEARCHABLE = ("genericContact", "genericCompany")


class Lookup:
    """Live reads of unified records.

    Args:
        config: the connector config (credentials decide the API: a `pat_` token reads v2, a key v1).

    Raises:
        HoldedConfigError: the config is invalid (one line naming the field).
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.settings = parse_settings(config)
        self.client = HoldedClient(self.settings.client)
        self.specs = {spec.name: spec for spec in self.settings.unified()}
        self._kinds: dict[str, bool | None] = {}

    def __enter__(self) -> Lookup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def get(self, model: str, record_id: str) -> dict[str, Any]:
        """The unified record `record_id` of `model`, read from Holded now.

        Returns:
            The record as the stream emits it (no `raw`).

        Raises:
            HoldedConfigError: `model` is not a unified stream.
            HoldedNotFoundError: Holded has no such record (or its parent has no such child).
            HoldedError: any other failure of the call.
        """
        spec = self._spec(model)
        assert spec.listing is not None and spec.listing.item is not None
        parent = record_id.split(":", 1)[0]
        listed = self.client.get(spec.listing.item.format(id=parent))
        for record in self._unified(spec, listed):
            if spec.key_of(record) == record_id:
                return record
        raise HoldedNotFoundError(f"{model} {record_id} is not in Holded (its record answered, without it)")

    def search(self, model: str, text: str) -> list[dict[str, Any]]:
        """The `model` records (genericContact or genericCompany) whose name starts with `text`.

        Raises:
            HoldedConfigError: `model` cannot be searched, or `text` is empty.
        """
        spec = self._spec(model)
        if model not in SEARCHABLE:
            raise HoldedConfigError(f"{model} cannot be searched: search {' or '.join(SEARCHABLE)}")
        if not text.strip():
            raise HoldedConfigError("give the text to search for (the start of a name)")
        assert spec.listing is not None
        if self.settings.client.dialect == "v2":
            found = self.client.iter_records(f"{spec.listing.path}/search", {"name": text.strip()})
        else:
            wanted = _folded(text)
            found = (
                c for c in self.client.iter_records(spec.listing.path) if _folded(c.get("name")).startswith(wanted)
            )
        return [record for listed in found for record in self._unified(spec, listed)]

    def _spec(self, model: str) -> StreamSpec:
        if model not in self.specs:
            raise HoldedConfigError(f"{model!r} is not a unified model: use one of {', '.join(self.specs)}")
        return self.specs[model]

    def _unified(self, spec: StreamSpec, listed: Mapping[str, Any]) -> list[dict[str, Any]]:
        assert spec.listing is not None
        record = spec.listing.as_v1(listed, self.settings.options.timezone)
        return list(
            spec.extract(
                record,
                default_currency=self.settings.options.default_currency,
                is_person=self._is_person if spec.name == "accountingInvoice" else None,
                include_raw=False,
                timezone=self.settings.options.timezone,
            )
        )

    def _is_person(self, contact_id: str) -> bool | None:
        """An invoice's contact: person or company, read by id once (None: Holded has no such contact)."""
        if contact_id not in self._kinds:
            contacts = self.specs["genericContact"].listing
            assert contacts is not None and contacts.item is not None
            try:
                answer = self.client.get(contacts.item.format(id=contact_id))
                contact = contacts.as_v1(answer, self.settings.options.timezone)
                self._kinds[contact_id] = is_person(contact)
            except HoldedNotFoundError:
                self._kinds[contact_id] = None
        return self._kinds[contact_id]


def _folded(value: Any) -> str:
    text = unicodedata.normalize("NFD", str(value or "")).casefold()
    return "".join(ch for ch in text if not unicodedata.combining(ch)).strip()
