"""Shared records for the runner's unit tests."""

from __future__ import annotations

from typing import Any


def make_event(event_id: str, model: str = "genericContact", record_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id,
        "event": f"{model}::updated",
        "model": model,
        "recordId": record_id or event_id,
        "type": "updated",
        "detectedAt": "2024-06-01T00:00:00Z",
        "changedFields": ["email"],
        "record": {"id": record_id or event_id},
    }
