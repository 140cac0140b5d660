"""Command line: `python -m holded_sandbox [--port 8420] [--seed 1] [--scale 1] [fault options]`."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any

from .faults import Faults
from .oauth import OAuthSettings
from .server import SandboxServer
from .v2 import DEFAULT_TOKEN
from .webhooks import WebhookError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="holded-sandbox", description="Local emulator of Holded's API v1 and v2.")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8420, help="port (0 picks a free one)")
    p.add_argument("--seed", type=int, default=1, help="data seed (same seed, same data)")
    p.add_argument("--scale", type=float, default=1.0, help="multiplies every seeded count (1 ~ 1000 contacts)")
    p.add_argument("--api-key", default="sandbox-api-key", help="the accepted `key` header")
    p.add_argument(
        "--bearer-token", default="sandbox-bearer-token", help="a static accepted Bearer token ('' disables)"
    )
    p.add_argument(
        "--api-token", default=DEFAULT_TOKEN, help="the API v2 token (pat_...) holding every permission ('' disables)"
    )
    f = p.add_argument_group("faults")
    f.add_argument("--latency-ms", type=float, default=0)
    f.add_argument("--latency-jitter-ms", type=float, default=0)
    f.add_argument("--rate-limit-rps", type=float, default=None, help="token bucket per credential; over it: 429")
    f.add_argument("--rate-limit-burst", type=int, default=1)
    f.add_argument("--rate-limit-minute", type=int, default=0, help="account requests per minute, v1+v2 (0: off)")
    f.add_argument("--rate-limit-month", type=int, default=100_000,
                   help="account requests per calendar month, v1+v2 (0: off; default 100000)")  # fmt: skip
    f.add_argument("--retry-after-format", choices=["seconds", "http-date"], default="seconds")
    f.add_argument("--error-rate", type=float, default=0, help="share of requests answered 500/502/503/504")
    f.add_argument("--reset-rate", type=float, default=0, help="share of connections closed without answer")
    f.add_argument("--lost-create-rate", type=float, default=0, help="share of creates applied but not answered")
    f.add_argument("--html-rate", type=float, default=0, help="share answered with the HTML 404 page (HTTP 200)")
    f.add_argument("--truncate-rate", type=float, default=0, help="share of answers cut in half")
    f.add_argument("--deny-module", action="append", default=[], metavar="MODULE", help="answer 403 for a module")
    f.add_argument("--fault-seed", type=int, default=0)
    f.add_argument("--series-overrides-number", action="store_true",
                   help="sales documents get their series' number, whatever invoiceNum says")  # fmt: skip
    w = p.add_argument_group("webhooks")
    w.add_argument("--webhook", action="append", default=[], metavar="URL",
                   help="register a webhook for every event at start (127.0.0.1 / localhost / ::1 only)")  # fmt: skip
    w.add_argument("--webhook-duplicate-rate", type=float, default=0, help="share of events delivered twice")
    w.add_argument("--webhook-shuffle", type=int, default=0, metavar="N",
                   help="deliver each batch of up to N events out of order (0: in order)")  # fmt: skip
    w.add_argument("--webhook-shuffle-wait-ms", type=float, default=100)
    w.add_argument("--webhook-retry-base-ms", type=float, default=50, help="first retry delay, doubled per failure")
    w.add_argument("--webhook-retry-max-ms", type=float, default=1000)
    w.add_argument("--webhook-max-attempts", type=int, default=8)
    w.add_argument("--webhook-timeout", type=float, default=2, help="seconds per delivery attempt")
    o = p.add_argument_group("oauth")
    o.add_argument("--client-id", default="sandbox-client")
    o.add_argument("--client-secret", default="sandbox-secret")
    o.add_argument("--refresh-token", default="sandbox-refresh-token")
    o.add_argument("--access-token-ttl", type=float, default=3600)
    o.add_argument("--rotate-refresh-tokens", action="store_true")
    return p


def _faults(args: argparse.Namespace) -> Faults:
    return Faults(
        latency_ms=args.latency_ms,
        latency_jitter_ms=args.latency_jitter_ms,
        rate_limit_rps=args.rate_limit_rps,
        rate_limit_burst=args.rate_limit_burst,
        retry_after_format=args.retry_after_format,
        error_rate=args.error_rate,
        reset_rate=args.reset_rate,
        lost_create_rate=args.lost_create_rate,
        html_rate=args.html_rate,
        truncate_rate=args.truncate_rate,
        denied_modules=list(args.deny_module),
        seed=args.fault_seed,
        series_overrides_number=args.series_overrides_number,
        rate_limit_per_minute=args.rate_limit_minute or None,
        rate_limit_per_month=args.rate_limit_month or None,
        webhook_duplicate_rate=args.webhook_duplicate_rate,
        webhook_shuffle=args.webhook_shuffle,
        webhook_shuffle_wait_ms=args.webhook_shuffle_wait_ms,
        webhook_retry_base_ms=args.webhook_retry_base_ms,
        webhook_retry_max_ms=args.webhook_retry_max_ms,
        webhook_max_attempts=args.webhook_max_attempts,
        webhook_timeout_s=args.webhook_timeout,
    )


def _stop(*_: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        faults = _faults(args)
    except ValueError as exc:
        print(f"holded-sandbox: {exc}", file=sys.stderr)
        return 2
    if args.api_token and not args.api_token.startswith("pat_"):
        print("holded-sandbox: --api-token must start with 'pat_' (Holded's v2 tokens do)", file=sys.stderr)
        return 2
    oauth = OAuthSettings(
        args.client_id, args.client_secret, args.refresh_token, args.access_token_ttl, args.rotate_refresh_tokens
    )
    started = time.perf_counter()
    server = SandboxServer(
        args.host,
        args.port,
        args.seed,
        args.scale,
        args.api_key,
        faults,
        oauth,
        args.bearer_token or None,
        args.api_token or None,
    )
    seeded = time.perf_counter() - started
    try:
        hooks = [server.webhooks.register(url) for url in args.webhook]
    except WebhookError as exc:
        print(f"holded-sandbox: --webhook {exc}", file=sys.stderr)
        return 2
    try:
        server.start()
    except OSError as exc:
        print(f"holded-sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    counts = server.store.counts()
    print(f"Holded sandbox listening on {server.base_url}", flush=True)
    print(f"  API key:     {server.api_key}   (header `key: ...`)")
    if server.bearer_token:
        print(f"  Bearer:      {server.bearer_token}")
    if server.api_token:
        print(f"  API v2:      {server.base_url}/v2   token {server.api_token}   (Authorization: Bearer ...)")
    print(f"  Token URL:   {server.token_url}   (client {oauth.client_id}, refresh token {oauth.refresh_token})")
    print(f"  Control:     {server.control_url}/{{faults,stats,reset,fill,tokens,usage,webhooks}}")
    for hook in hooks:
        print(f"  Webhook:     {hook.url}   (id {hook.id}, secret {hook.secret})")
    print(f"  Seed {args.seed}, scale {args.scale:g}: {sum(counts.values())} records in {seeded:.2f}s")
    print("  " + ", ".join(f"{name} {count}" for name, count in sorted(counts.items())))
    print("Press Ctrl-C to stop.", flush=True)
    if threading_main():
        signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
