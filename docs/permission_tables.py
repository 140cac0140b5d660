"""The Holded API v2 permission tables of the docs, generated from the code so they cannot drift.

A table sits in a Markdown file between `<!-- permissions:NAME -->` and `<!-- /permissions:NAME -->`
(NAME: `unified`, `native`, `writes` or `optional`). `python docs/permission_tables.py` rewrites every table of the
files in `DOCS`; `--check` rewrites nothing and exits 1 naming each table that differs
(`unit_tests/test_docs_permissions.py` runs the check, so a change to the v2 dialect's table that is not
carried into the docs fails the tests).

The source of truth is the v2 dialect (`holded_core/dialects/v2.py`: each resource's `permission`) read
through `holded_core.permissions.needed`, the same function `holded permissions` prints from.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout

from holded_core.dialects.v2 import V2  # noqa: E402
from holded_core.permissions import needed, optional_needs  # noqa: E402
from holded_core.streams import StreamSpec, native_streams, unified_streams  # noqa: E402

# Each file and the tables it must hold (a table missing from its file fails the check too).
DOCS: dict[str, tuple[str, ...]] = {
    "README.md": ("unified", "optional"),
    "docs/integrations/sources/holded.md": ("unified", "optional", "native"),
    "docs/integrations/destinations/holded.md": ("writes",),
}
NONE_NAMED = "none named (any valid token)"
BLOCK = re.compile(r"(<!-- permissions:(\w+) -->\n)(.*?)(<!-- /permissions:\2 -->)", re.S)


def _permission(spec: StreamSpec | None = None, write: str | None = None) -> str:
    needs, _unnamed = needed([spec] if spec is not None else [], [write] if write else [], V2)
    return ", ".join(f"`{n.permission}`" for n in needs) or NONE_NAMED


def unified_table() -> str:
    """The ten unified streams: the v2 route each reads, the permission to read it and to write it."""
    rows = ["| stream | reads (API v2) | to read | to write |", "|---|---|---|---|"]
    for spec in unified_streams(dialect=V2):
        assert spec.listing is not None
        rows.append(f"| `{spec.name}` | `{spec.listing.path}` | {_permission(spec)} | {_permission(write=spec.name)} |")
    return "\n".join(rows) + "\n"


def native_table() -> str:
    """Every Holded-native stream API v2 serves: its route and the permission to read it."""
    rows = ["| stream | route (API v2) | to read |", "|---|---|---|"]
    for spec in native_streams(V2):
        assert spec.listing is not None
        rows.append(f"| `{spec.name}` | `{spec.listing.path}` | {_permission(spec)} |")
    return "\n".join(rows) + "\n"


def writes_table() -> str:
    """The ten unified models the destination writes: the permissions writing each needs (it reads the
    model's listing too, to match records before it creates any)."""
    rows = ["| stream written | permissions the token needs |", "|---|---|"]
    for spec in unified_streams(dialect=V2):
        needs, _unnamed = needed([spec], [spec.name], V2)
        rows.append(f"| `{spec.name}` | {', '.join(f'`{n.permission}`' for n in needs) or NONE_NAMED} |")
    return "\n".join(rows) + "\n"


def optional_table() -> str:
    """Permissions no stream needs but a run uses when the token has them (`developers:usage.read`)."""
    rows = ["| permission | route | what uses it |", "|---|---|---|"]
    for need in optional_needs():
        rows.append(f"| `{need.permission}` | `{need.path}` | {', '.join(need.used_by)} |")
    return "\n".join(rows) + "\n"


TABLES: dict[str, Callable[[], str]] = {
    "unified": unified_table,
    "native": native_table,
    "writes": writes_table,
    "optional": optional_table,
}


def render(text: str) -> str:
    """`text` with every permissions block replaced by its table as the code has it now."""
    return BLOCK.sub(lambda m: m.group(1) + TABLES[m.group(2)]() + m.group(4), text)


def problems(root: Path = ROOT) -> list[str]:
    """What differs between the docs and the code: one line per file (empty: all up to date)."""
    out = []
    for name, wanted in DOCS.items():
        text = (root / name).read_text()
        found = [m.group(2) for m in BLOCK.finditer(text)]
        missing = [table for table in wanted if table not in found]
        if missing:
            out.append(
                f"{name}: no {', '.join(missing)} table (<!-- permissions:NAME --> ... <!-- /permissions:NAME -->)"
            )
        if render(text) != text:
            out.append(f"{name}: a permissions table differs from the code; run `python docs/permission_tables.py`")
    return out


def main(argv: list[str]) -> int:
    if "--check" in argv:
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        return 1 if found else 0
    for name in DOCS:
        path = ROOT / name
        text = path.read_text()
        if render(text) != text:
            path.write_text(render(text))
            print(f"updated {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
