"""The docs' Holded API v2 permission tables are the code's (docs/permission_tables.py renders them from the
v2 dialect's table through `holded_core.permissions.needed`)."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "docs" / "permission_tables.py"
TABLES = runpy.run_path(str(SCRIPT), run_name="permission_tables")


def test_given_the_docs_then_every_permissions_table_matches_the_v2_dialect():
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_given_a_table_edited_by_hand_then_the_check_names_its_file(tmp_path):
    for name in TABLES["DOCS"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text((ROOT / name).read_text())
    source = tmp_path / "docs/integrations/sources/holded.md"
    source.write_text(source.read_text().replace("| `crm:deals.read` |", "| `crm:leads.read` |", 1))
    readme = tmp_path / "README.md"
    readme.write_text(readme.read_text().replace("<!-- permissions:unified -->", "", 1))
    found = TABLES["problems"](tmp_path)
    assert any(p.startswith("docs/integrations/sources/holded.md: a permissions table differs") for p in found)
    assert any(p.startswith("README.md: no unified table") for p in found), found


def test_given_the_unified_table_then_each_stream_reads_and_writes_its_resources_permission():
    rows = {line.split("|")[1].strip(" `"): line for line in TABLES["unified_table"]().splitlines()[2:]}
    assert len(rows) == 10
    assert "`crm:deals.read`" in rows["crmOpportunity"] and "`crm:deals.write`" in rows["crmOpportunity"]
    assert "`sales:invoices.write`" in rows["accountingInvoiceItem"]  # lines are written through their invoice


def test_given_the_optional_table_then_it_lists_usage_read_for_the_quota_check_of_holded_sync():
    rows = TABLES["optional_table"]().splitlines()[2:]
    assert len(rows) == 1 and "`developers:usage.read`" in rows[0] and "`/v2/usage`" in rows[0]
    assert "quota check" in rows[0] and "holded sync" in rows[0] and "optional" in rows[0]
    for name in ("README.md", "docs/integrations/sources/holded.md"):  # where a reader looks for what to tick
        assert "<!-- permissions:optional -->\n| permission |" in (ROOT / name).read_text(), name
