"""Every list and get answer of the sandbox validates against Holded's own OpenAPI response schemas.

The OpenAPI files are read at test time from ../shared/holded-api/openapi-v1/. Fields where Holded's
real payloads knowingly differ from the declared type are listed, with the reason, in
`holded_sandbox.spec_deviations.KNOWN_SPEC_DEVIATIONS`; only those are relaxed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests

from holded_sandbox.spec_deviations import KNOWN_SPEC_DEVIATIONS
from holded_sandbox.testing import running_sandbox

SPEC_DIR = Path(__file__).resolve().parents[2] / "shared" / "holded-api" / "openapi-v1"
if not SPEC_DIR.is_dir():  # a clone without ../shared beside it (CI lays it there and checks it is)
    pytest.skip(f"Holded's v1 OpenAPI files are missing: expected {SPEC_DIR} (the shared/ folder)",
                allow_module_level=True)  # fmt: skip
MODULE_OF_FILE = {
    "invoice.json": "invoicing",
    "crm.json": "crm",
    "projects.json": "projects",
    "team.json": "team",
    "accounting.json": "accounting",
}
DOC_TYPES = [
    "invoice", "salesreceipt", "creditnote", "receiptnote", "salesorder", "proform",
    "waybill", "estimate", "purchase", "purchaseorder", "purchaserefund",
]  # fmt: skip
# Routes that answer files, not JSON.
BINARY = re.compile(r"/(attachments/get|pdf|image|image/\{imageFileName\})$")
# Holded answers these by path parameters that are not ids of a parent list.
FIXED_PARAMS = {"type": "invoice"}


def _spec_files() -> dict[str, dict[str, Any]]:
    if not SPEC_DIR.is_dir():
        pytest.fail(f"Holded's OpenAPI files are missing: expected them in {SPEC_DIR} (the shared/ folder)")
    return {name: json.loads((SPEC_DIR / name).read_text()) for name in MODULE_OF_FILE}


def _resolve(doc: dict[str, Any], node: Any) -> Any:
    """Inline $refs and turn OpenAPI 3.0 `nullable` into JSON Schema."""
    if isinstance(node, list):
        return [_resolve(doc, item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return _resolve(doc, target)
    out = {key: _resolve(doc, value) for key, value in node.items() if key not in ("nullable", "example")}
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def _relax(schema: Any, dotted: str) -> None:
    """Accept any value at a field path (arrays are stepped through implicitly)."""
    node = schema
    parts = dotted.split(".")
    for index, part in enumerate(parts):
        while isinstance(node, dict) and ("items" in node or "allOf" in node):
            if "items" in node:
                node = node["items"]
            else:
                for sub in node["allOf"]:
                    _relax(sub, ".".join(parts[index:]))
                return
        props = node.get("properties", {}) if isinstance(node, dict) else {}
        if part not in props:
            return
        if index == len(parts) - 1:
            props[part] = {}
        else:
            node = props[part]


def _deviations_for(module: str, method: str, path: str) -> list[str]:
    prefix = f"{module} {method} {path}:"
    return [key.split(":", 1)[1].strip() for key in KNOWN_SPEC_DEVIATIONS if key.startswith(prefix)]


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    ops = []
    for name, doc in _spec_files().items():
        module = MODULE_OF_FILE[name]
        for path, item in doc["paths"].items():
            op = item.get("get")
            if not op or BINARY.search(path):
                continue
            content = _resolve(doc, op.get("responses", {}).get("200", {})).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema:
                ops.append((module, path, schema))
    return ops


OPERATIONS = _operations() if SPEC_DIR.is_dir() else []


@pytest.fixture(scope="module")
def sb():
    with running_sandbox(scale=0.05, seed=3) as server:
        yield server


def _get(sb, module: str, path: str) -> requests.Response:
    return requests.get(f"{sb.base_url}/{module}/v1{path}", headers={"key": sb.api_key}, timeout=30)


def _first_id(sb, module: str, list_path: str) -> str | None:
    resp = _get(sb, module, list_path)
    if "json" not in resp.headers.get("Content-Type", ""):
        return None
    body = resp.json()
    if isinstance(body, dict):
        lists = [v for v in body.values() if isinstance(v, list)]
        body = lists[0] if lists else []
    for item in body if isinstance(body, list) else []:
        for key in ("id", "timeId", "_id"):
            if isinstance(item, dict) and item.get(key):
                return str(item[key])
    return None


def _concrete_paths(sb, module: str, template: str) -> list[str]:
    """Fill path parameters: docType with every type, ids with the first item of the parent list."""
    paths = [template]
    if "{docType}" in template:
        paths = [template.replace("{docType}", dt) for dt in DOC_TYPES]
    done = []
    for path in paths:
        while True:
            match = re.search(r"\{(\w+)\}", path)
            if not match:
                done.append(path)
                break
            name = match.group(1)
            value = FIXED_PARAMS.get(name) or _first_id(sb, module, path[: match.start()].rstrip("/"))
            if value is None:
                break  # nothing to fetch by id in this small dataset
            path = path[: match.start()] + value + path[match.end() :]
    return done


def test_the_spec_is_read():
    assert len(OPERATIONS) >= 30, "expected the OpenAPI files to describe at least 30 JSON GET routes"


REQUIRED = {
    ("invoicing", "/contacts"), ("invoicing", "/contacts/{contactId}"), ("invoicing", "/products"),
    ("invoicing", "/documents/{docType}"), ("invoicing", "/documents/{docType}/{documentId}"),
    ("invoicing", "/payments"), ("invoicing", "/taxes"), ("crm", "/funnels"), ("crm", "/funnels/{funnelId}"),
    ("crm", "/leads"), ("crm", "/leads/{leadId}"), ("crm", "/events"), ("crm", "/events/{eventId}"),
    ("projects", "/projects"), ("projects", "/projects/{projectId}"), ("projects", "/tasks"),
}  # fmt: skip


@pytest.mark.parametrize(("module", "path", "schema"), OPERATIONS, ids=[f"{m} GET {p}" for m, p, _ in OPERATIONS])
def test_answer_matches_openapi_schema(sb, module, path, schema):
    concrete = _concrete_paths(sb, module, path)
    if (module, path) in REQUIRED:
        assert concrete, f"no data to exercise {module} GET {path}"
    checked = 0
    for url_path in concrete:
        resp = _get(sb, module, url_path)
        if "html" in resp.headers.get("Content-Type", ""):
            assert (module, path) not in REQUIRED, f"{module} GET {url_path} is not implemented"
            continue
        assert resp.status_code == 200, f"{module} GET {url_path}: HTTP {resp.status_code} {resp.text[:200]}"
        body = resp.json()
        if isinstance(body, list) and (module, path) in REQUIRED and "{" not in path:
            assert body, f"{module} GET {url_path} answered an empty list: the seeded data should cover it"
        relaxed = json.loads(json.dumps(schema))
        for field in _deviations_for(module, "GET", path):
            if field == "$":  # the spec declares one object where Holded answers a list of them
                relaxed = {"type": "array", "items": relaxed}
            else:
                _relax(relaxed, field)
        try:
            jsonschema.validate(body, relaxed)
        except jsonschema.ValidationError as exc:
            where = "/".join(str(p) for p in exc.absolute_path)
            pytest.fail(f"{module} GET {url_path}: {where}: {exc.message[:300]}")
        checked += 1
    if (module, path) in REQUIRED:
        assert checked, f"{module} GET {path} was never checked"
