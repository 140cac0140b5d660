"""`holded`: the local runner. `sandbox` and `proxy` work today; sync/push/events/demo land with their issue."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from holded_core import HoldedClient, HoldedError, parse_config

NOT_YET = ("sync", "push", "events", "demo")


def _load_config(path: str | None, base_url: str | None) -> dict[str, Any]:
    """Config file (JSON or YAML), then environment (HOLDED_API_KEY, HOLDED_BASE_URL), then flags win."""
    config: dict[str, Any] = {}
    if path:
        text = Path(path).read_text(encoding="utf-8")
        loaded = yaml.safe_load(text) if text.strip() else {}
        if not isinstance(loaded, dict):
            raise HoldedError(f"{path}: the config file must hold a JSON or YAML object")
        config.update(loaded)
    if "credentials" not in config and os.environ.get("HOLDED_API_KEY"):
        config["credentials"] = {"auth_type": "api_key", "api_key": os.environ["HOLDED_API_KEY"]}
    if os.environ.get("HOLDED_BASE_URL") and "base_url" not in config:
        config["base_url"] = os.environ["HOLDED_BASE_URL"]
    if base_url:
        config["base_url"] = base_url
    return config


def _proxy(args: argparse.Namespace) -> int:
    config = _load_config(args.config, args.base_url)
    if "credentials" not in config:
        print("holded proxy: no credentials; set HOLDED_API_KEY or pass --config FILE", file=sys.stderr)
        return 2
    body = json.loads(args.data) if args.data else None
    with HoldedClient(parse_config(config)) as client:
        result = client.request(args.method, args.path, json=body, idempotent=args.method.upper() != "POST")
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="holded", description="Holded data connector: local runner")
    sub = parser.add_subparsers(dest="command", required=True)
    sandbox = sub.add_parser("sandbox", help="run the local Holded v1 sandbox", add_help=False)
    sandbox.add_argument("rest", nargs=argparse.REMAINDER)
    proxy = sub.add_parser("proxy", help="an authenticated call to any Holded endpoint")
    proxy.add_argument("method")
    proxy.add_argument("path", help="path under the base URL, e.g. /invoicing/v1/contacts")
    proxy.add_argument("--data", help="JSON body")
    proxy.add_argument("--config", help="connector config file (JSON or YAML)")
    proxy.add_argument("--base-url", help="override base_url (e.g. the sandbox's)")
    for name in NOT_YET:
        sub.add_parser(name, help=f"{name} (not yet available)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sandbox"]:
        from holded_sandbox.cli import main as sandbox_main

        return sandbox_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        if args.command == "proxy":
            return _proxy(args)
    except (HoldedError, ValueError, OSError) as exc:
        print(f"holded {args.command}: {exc}", file=sys.stderr)
        return 1
    print(f"holded {args.command}: not yet available (it lands with the local runner issue)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
