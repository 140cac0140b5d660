"""`holded`: the local runner. Parses the command line and hands each command to its module:
sync (sync_job), push (push_job), events (events_job, webhooks), webhooks register (webhook_setup), check, demo,
proxy, query, streams, sandbox. What every adapter shares (stream selection, the read loop, check, the rotated-token
hand-back, exit codes) is `holded_core.adapter`.

Every mistake ends as one line on stderr naming what to fix; exit codes: 0 done, 1 the run failed
(Holded refused, records refused past the threshold, events still queued), 2 a usage or config mistake.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from holded_core.adapter import EXIT_FAILED, EXIT_USAGE, TokenHandBack, run_command
from holded_core.errors import HoldedBasicsError, HoldedConfigError
from holded_core.secrets import redact, register_secret

ENV_DB = "HOLDED_DB"
ENV_WEBHOOK_SECRET = "HOLDED_WEBHOOK_SECRET"
ENV_EVENTS_SECRET = "HOLDED_EVENTS_SECRET"  # signs the events `holded webhooks serve --webhook` delivers
CONFIG_WEBHOOK_SECRET = "webhook_secret"  # the config file's key for Holded's signing secret (whsec_...)
DEFAULT_DB = "holded.duckdb"
MAX_BODY_DEFAULT = 256 * 1024  # holded_core.inbound.MAX_BODY (not imported here: the parser stays light)


class UsageError(Exception):
    """A command-line mistake: exit 2 with the message."""


# ------------------------------------------------------------------------------------ helpers


def _setup_logging(verbose: bool, console: Any = None) -> None:
    from holded_core.secrets import install_log_redaction

    root = logging.getLogger()
    root.handlers.clear()
    if console is not None:
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(console=console, show_time=False, show_path=False, markup=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    install_log_redaction()


def _settings(args: argparse.Namespace, require_credentials: bool = True) -> tuple[Any, Any]:
    from holded_cli.config import load_config
    from holded_core.settings import parse_settings

    loaded = load_config(args.config, getattr(args, "base_url", None), require_credentials=require_credentials)
    return loaded, parse_settings(loaded.values)


def _db(args: argparse.Namespace) -> Path:
    return Path(args.db or os.environ.get(ENV_DB) or DEFAULT_DB)


@contextlib.contextmanager
def _kept_only_if_used(db: Path) -> Iterator[None]:
    """A DuckDB file this run creates is removed again when the run stops on its basics (a refused
    credential, a wrong `base_url`): nothing was read, and an empty file would look like a synced one."""
    new = not db.exists()
    try:
        yield
    except HoldedBasicsError:
        if new:
            for leftover in (db, db.with_name(db.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise


def _tokens(loaded: Any, log: Any) -> TokenHandBack:
    """The client's `on_refresh_token`: a rotated refresh token is written back to --config (`log`: a
    warning when it cannot be)."""
    return TokenHandBack(loaded.values, save=loaded.token_writer(lambda message: log("WARN", message)))


# ----------------------------------------------------------------------------------- commands


def cmd_sync(args: argparse.Namespace) -> int:
    """Sync into DuckDB. Exit 0 done; 1 streams did not complete, or Holded's monthly quota ran out mid-run
    (what completed is saved; the next run resumes); 2 a config mistake, or the quota check found the
    sync's estimated requests pass what is left this month (nothing read; `--fit-quota` reads what fits)."""
    from holded_cli.progress import Progress, summary_table
    from holded_cli.store import Store
    from holded_cli.sync_job import QuotaCheck, SyncJob, streams_of
    from holded_cli.webhook_setup import registered_events
    from holded_core.streams import EVENTS_STREAM
    from holded_core.webhook_plan import reconcile, webhook_sync

    loaded, settings = _settings(args)
    selection = streams_of(settings, _names(args.streams))
    if args.no_events:
        selection = selection.without(EVENTS_STREAM)
    webhooks = webhook_sync(loaded.values, enabled=args.webhooks, every=args.reconcile_every)
    progress = Progress(live=False if args.no_progress else None)
    _setup_logging(args.verbose, progress.console if progress.live_mode else None)
    started = time.time()
    with _kept_only_if_used(_db(args)), Store(_db(args)) as store:
        if args.full_refresh:
            store.forget_state()
        quota = QuotaCheck(settings, store, fit_quota=args.fit_quota, say=lambda line: print(line, file=sys.stderr))
        force = args.reconcile or args.full_refresh  # list everything now
        registered = {*registered_events(store.con), *webhooks.events}
        plan = reconcile(selection, settings.unified(), store.last_listed(), webhooks, started, force=force,
                         registered=registered)  # fmt: skip
        job = SyncJob(
            settings, store, selection, progress=progress, on_refresh_token=_tokens(loaded, progress.log), quota=quota,
            reconciliation=plan, webhooks=webhooks,
        )  # fmt: skip
        result = job.run()
        summary = result.as_json()
        store.record_run("sync", started, result.status, result.requests, result.view.stats.retries, summary)
    table = summary_table(result.view, result.totals, result.title(_db(args)), outside=result.requests_outside,
                          from_webhooks=result.webhook_rows(), notes=result.webhook_notes(),
                          skipped=result.skipped)  # fmt: skip
    progress.console.print(table)
    if args.json:
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
    if result.interrupted:
        return 130
    if result.quota is not None:
        when = result.quota.reset
        reset = f" (until {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(when))})" if when else ""
        print(f"holded sync: Holded's monthly request quota is spent{reset}: the streams that completed are saved and "
              f"the next run resumes {', '.join(result.failed) or 'the others'}", file=sys.stderr)  # fmt: skip
        return 1
    # `--fit-quota` skipping streams is what was asked for (exit 0); the summary and --json say `partial`.
    return 1 if result.failed else 0


def cmd_push(args: argparse.Namespace) -> int:
    from holded_cli.progress import make_console
    from holded_cli.push_job import PushInput, run_push
    from holded_core.push import PushOptions

    sources = [x for x in (args.table, args.sql, args.file) if x]
    if len(sources) != 1:
        raise UsageError("give exactly one of --table NAME, --sql QUERY or --file PATH (.csv / .jsonl)")
    loaded, settings = _settings(args)
    offered = {spec.name: spec for spec in settings.unified()}
    stream_name = args.stream or (args.table if args.table in offered else None)
    if stream_name not in offered:
        raise UsageError(f"--stream: say which unified model the rows are, one of {', '.join(offered)}")
    config = dict(loaded.values)
    for key, value in (("dry_run", args.dry_run or None), ("rejected_records_path", args.rejected),
                       ("rejection_threshold", args.threshold), ("concurrency", args.concurrency)):  # fmt: skip
        if value is not None:
            config[key] = value
    options = PushOptions.from_config(config)
    _setup_logging(args.verbose)
    source = PushInput(table=args.table, sql=args.sql, file=Path(args.file) if args.file else None, db=_db(args))
    lines, lines_stream = None, None
    if args.lines:
        if stream_name != "accountingInvoice":
            raise UsageError("--lines goes with --stream accountingInvoice (the invoices' accountingInvoiceItem rows)")
        lines_stream = offered["accountingInvoiceItem"]
        is_file = Path(args.lines).suffix.lower() in (".csv", ".jsonl", ".ndjson", ".json")
        lines = PushInput(
            table=None if is_file else args.lines, file=Path(args.lines) if is_file else None, db=_db(args)
        )
    started = time.monotonic()
    console = make_console(sys.stderr if args.json else sys.stdout)
    saver = _tokens(loaded, lambda level, message: console.print(f"{level}: {message}", markup=False))
    report = run_push(
        settings, options, offered[stream_name], source, args.op, keep=max(args.show, 1000), on_refresh_token=saver,
        lines=lines, lines_stream=lines_stream,
    )  # fmt: skip
    _print_push(console, report, options, args.show)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "no rows"
    mode = "dry run (nothing written)" if options.dry_run else "pushed"
    what = f"{stream_name} and {lines_stream.name}" if lines_stream is not None else stream_name
    console.print(f"holded push: {mode}: {report.total} rows of {what} in {time.monotonic() - started:.1f}s: "
                  f"{counts}", markup=False)  # fmt: skip
    if args.json:
        json.dump({"stream": stream_name, "dry_run": options.dry_run, "total": report.total, "counts": report.counts,
                   "failure": report.failure}, sys.stdout)  # fmt: skip
        sys.stdout.write("\n")
    if report.failure:
        print(f"holded push: {report.failure}", file=sys.stderr)
        return 1
    return 0


def _outcomes_table(console: Any, title: str, third: str, outcomes: list[Any], show: int) -> None:
    """Push outcomes with their reasons; `third`: "outcome" (the status) or "operation" (the op)."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for name in ("stream", "key", third, "note" if third == "outcome" else "reason"):
        table.add_column(name)
    for outcome in outcomes[:show]:
        r = outcome.result
        table.add_row(r.stream, r.key, r.status if third == "outcome" else r.op, r.reason or "")
    console.print(table)


def _print_push(console: Any, report: Any, options: Any, show: int) -> None:
    from rich.table import Table

    plan = [o for o in report.outcomes if o.result.status not in ("rejected", "not approved")]
    if options.dry_run and plan:
        table = Table(title="Plan (dry run: nothing was written)", title_justify="left")
        for name in ("stream", "key", "operation", "outcome", "changes (Holded's value -> new value)", "note"):
            table.add_column(name)
        for outcome in plan[:show]:
            r = outcome.result
            changes = "; ".join(f"{k}: {v[0]!r} -> {v[1]!r}" for k, v in r.changes.items()) or "-"
            # `outcome`: what a real run would do (would create / update / delete, or unchanged), not the op asked
            table.add_row(r.stream, r.key, r.op, r.outcome, changes, r.reason or "")
        console.print(table)
        if len(plan) > show:
            console.print(f"... and {len(plan) - show} more planned rows (--show N to see more)")
    noted = [o for o in report.outcomes if o.result.reason and o.result.status not in ("rejected", "not approved")]
    if noted and not options.dry_run:
        _outcomes_table(console, f"Written, with a note ({len(noted)})", "outcome", noted, show)
    for status, title in (("rejected", "Rejected records"), ("not approved", "Written, but not approved")):
        rows = [o for o in report.outcomes if o.result.status == status]
        if not rows:
            continue
        _outcomes_table(console, f"{title} ({report.counts.get(status, 0)})", "operation", rows, show)
        if options.rejected_records_path:
            console.print(f"every {status} record, with its reason: {options.rejected_records_path}")


def cmd_events(args: argparse.Namespace) -> int:
    from holded_cli.events_job import describe, parse_every, run_every, run_once
    from holded_cli.progress import Progress
    from holded_cli.store import Store
    from holded_cli.webhooks import Webhook

    loaded, settings = _settings(args)
    interval = parse_every(args.every) if args.every else None
    # HOLDED_EVENTS_SECRET signs the events we send (as `holded webhooks serve --webhook`). Never Holded's
    # HOLDED_WEBHOOK_SECRET: the downstream receiver would then hold the secret that makes deliveries to serve.
    secret = args.secret or os.environ.get(ENV_EVENTS_SECRET, "")
    register_secret(secret)
    register_secret(os.environ.get(ENV_WEBHOOK_SECRET, ""))
    if args.webhook and not secret:
        raise HoldedConfigError(f"--webhook needs a secret to sign the events: set {ENV_EVENTS_SECRET} (or --secret)")
    _setup_logging(args.verbose)
    progress = Progress(quiet=True)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    tokens = _tokens(loaded, progress.log)
    with _kept_only_if_used(_db(args)), Store(_db(args)) as store:
        webhook = None
        if args.webhook:
            webhook = Webhook(store, args.webhook, secret, attempts=args.attempts, backoff=args.backoff,
                              include_own_writes=args.include_own_writes)  # fmt: skip
        last: dict[str, Any] = {}

        def tick() -> None:
            run = run_once(
                settings,
                store,
                webhook,
                include_existing=args.include_existing,
                progress=progress,
                on_refresh_token=tokens,
                preflight="run" not in last,  # the basics are checked once, before the first run
                include_own_writes=args.include_own_writes,
            )
            last["run"] = run
            log(describe(run))
            if run.detection.quota is not None:  # not retried every tick: nothing changes before the reset
                raise run.detection.quota

        if interval is not None:
            return run_every(interval, tick, log)
        tick()
    run = last["run"]
    if run.detection.failed or (run.delivery is not None and run.delivery.pending):
        return 1
    return 0


def cmd_webhooks(args: argparse.Namespace) -> int:
    """`holded webhooks SUBCOMMAND`: the subcommand's own function (`webhooks_run`, set by its parser)."""
    return int(args.webhooks_run(args))


def cmd_webhooks_serve(args: argparse.Namespace) -> int:
    """`holded webhooks serve`: Holded's signed webhooks into the DuckDB file (holded_cli/receiver.py)."""
    from holded_cli.receiver import Outbound, Receiver, serve
    from holded_cli.sync_job import streams_of
    from holded_cli.webhooks import check_url
    from holded_core.inbound import MAX_BODY

    loaded, settings = _settings(args)
    secret = args.secret or _secret_file(args.secret_file) or os.environ.get(ENV_WEBHOOK_SECRET)
    secret = secret or str(loaded.values.get(CONFIG_WEBHOOK_SECRET) or "")
    register_secret(secret)
    if not secret:
        raise HoldedConfigError(
            f"no webhook secret: set {ENV_WEBHOOK_SECRET} (or --secret-file, --secret, or `{CONFIG_WEBHOOK_SECRET}` "
            "in the config file) to the whsec_... secret Holded showed when the webhook was made"
        )
    outbound = None
    if args.webhook:
        out_secret = args.webhook_secret or os.environ.get(ENV_EVENTS_SECRET, "")
        register_secret(out_secret)
        if not out_secret:
            raise HoldedConfigError(
                f"--webhook needs a secret to sign the events: set {ENV_EVENTS_SECRET} (or --webhook-secret)"
            )
        outbound = Outbound(check_url(args.webhook), out_secret, args.include_own_writes)
    if args.max_body is not None and args.max_body < 1024:
        raise UsageError(f"--max-body {args.max_body}: give at least 1024 bytes (default {MAX_BODY})")
    db = _db(args)
    selection = streams_of(settings, _names(args.streams) or _served_streams(settings, db))
    auto = None if args.streams else (lambda names: streams_of(settings, names))
    _setup_logging(args.verbose)

    def log(message: str) -> None:
        print(redact(message), file=sys.stderr, flush=True)

    receiver = Receiver(
        settings, selection, db, secret, outbound=outbound, max_body=args.max_body or MAX_BODY, log=log,
        on_refresh_token=_tokens(loaded, lambda level, message: log(f"{level}: {message}")), auto_streams=auto,
    )  # fmt: skip
    with _kept_only_if_used(db):
        receiver.prepare(retry_failed=args.retry_failed)
    return serve(receiver, args.host, args.port, log)


def _secret_file(path: str | None) -> str:
    """The secret `holded webhooks register --secret-file PATH` wrote (the file holds only it)."""
    if not path:
        return ""
    try:
        secret = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise HoldedConfigError(f"--secret-file {path}: cannot read it ({exc.strerror})") from None
    if not secret:
        raise HoldedConfigError(f"--secret-file {path} is empty: give the file `holded webhooks register` wrote")
    return secret


def _served_streams(settings: Any, db: Path) -> list[str] | None:
    """What the receiver keeps up to date by default: the ten unified streams and changeEvents (as `holded
    sync`), plus every other stream the database already has a table of (a native stream synced before)."""
    from holded_cli.store import connect
    from holded_core.adapter import selected_by_default

    if not db.exists():
        return None
    con = connect(db, read_only=True, wait=10.0)
    try:
        tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        con.close()
    specs = settings.streams()
    return [s.name for s in specs if selected_by_default(s) or s.name in tables]


def cmd_webhooks_register(args: argparse.Namespace) -> int:
    """Register Holded's webhooks for what the user syncs (holded_cli/webhook_setup.py). Exit 0 registered;
    2 a v1 key, the token lacks developers:webhooks.write (the steps for Holded's UI printed) or a config
    mistake; 1 Holded did not register it."""
    from holded_cli.sync_job import streams_of
    from holded_cli.webhook_setup import events_for, record_registration, refuse_v1, register, secret_sink
    from holded_cli.webhooks import check_url
    from holded_core import HoldedClient

    loaded, settings = _settings(args)
    refuse_v1(settings.client.dialect)
    url = check_url(args.url).strip()
    events = events_for(_names(args.events), streams_of(settings, _names(args.streams)).specs)
    sink = secret_sink(args.secret_file, loaded, sys.stdout.isatty())
    _setup_logging(args.verbose)
    steps = None
    if args.json:  # the steps for Holded's UI, when nothing could be registered, as JSON too

        def steps(lines: list[str]) -> None:
            json.dump({"registered": False, "url": url, "events": events, "steps": lines}, sys.stdout)
            sys.stdout.write("\n")

    with HoldedClient(settings.client) as client:
        done = register(client, url, events, sink, out=sys.stdout, show_steps=steps)
    recorded = record_registration(_db(args), done)  # `holded sync --webhooks` relies on what is recorded
    if recorded is not None:
        print(f"holded webhooks register: {recorded}", file=sys.stderr)
    if args.json:
        json.dump(done.as_json(), sys.stdout)
        sys.stdout.write("\n")
        return 0
    kept = f"saved in {done.secret_saved_to} (owner-only)"
    serve = "`holded webhooks serve`"
    if done.secret_saved_to == "terminal":
        kept = "shown above, once"
        serve = "`holded webhooks serve` with HOLDED_WEBHOOK_SECRET set to it"
    elif args.secret_file:
        serve = f"`holded webhooks serve --secret-file {done.secret_saved_to}`"
    elif loaded.path is not None:
        serve = f"`holded webhooks serve --config {done.secret_saved_to}`"
    print(f"holded webhooks register: Holded registered webhook {done.id} to {done.url} for {len(done.events)} events "
          f"({', '.join(done.events)}); its signing secret is {kept}. Next: {serve} at that URL, and "
          "`webhooks: {enabled: true}` in the config (or `holded sync --webhooks`) so syncs list these objects only "
          "to reconcile")  # fmt: skip
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from holded_cli.config import load_config
    from holded_core.adapter import check

    values = load_config(args.config, args.base_url).values
    _setup_logging(args.verbose)
    result = check(values)
    if args.json:
        lacking = [{"permission": need.permission, "used_by": need.used_by} for need in result.lacking]
        json.dump({"ok": result.ok, "error": result.error, "denied": list(result.denied),
                   "affected_streams": list(result.affected), "lacking": lacking}, sys.stdout)  # fmt: skip
        sys.stdout.write("\n")
    if not result.ok:
        print(f"holded check: {redact(str(result.error))}", file=sys.stderr)
        return EXIT_USAGE if result.config_error else EXIT_FAILED
    if not args.json:
        everything = "connected; every module is available to this credential"
        if result.lacking == () and _dialect(values) == "v2":
            everything = "connected; the API token holds every permission the ten unified streams need"
        print(f"holded check: {result.read_note or everything}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from holded_cli.demo import run_demo
    from holded_cli.progress import make_console

    console = make_console()
    _setup_logging(args.verbose)
    return run_demo(
        Path(args.db), args.scale, console, live=False if args.no_progress else None, api_version=args.api_version
    )


def cmd_query(args: argparse.Namespace) -> int:
    import duckdb
    from rich.table import Table

    from holded_cli.progress import make_console

    db = _db(args)
    if not db.exists():
        raise HoldedConfigError(f"{db}: no such database; run `holded sync` (or `holded demo`) first, or pass --db")
    from holded_cli.store import LOCK_WAIT, connect

    with connect(db, read_only=True, wait=LOCK_WAIT) as con:
        try:
            cursor = con.execute(args.sql)
        except duckdb.Error as exc:
            raise HoldedConfigError(f"the query failed: {str(exc).splitlines()[0]}") from None
        names = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    if args.json:
        for row in rows:
            sys.stdout.write(json.dumps(dict(zip(names, row, strict=True)), default=str, ensure_ascii=False) + "\n")
        return 0
    table = Table()
    for name in names:
        table.add_column(name)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    make_console().print(table)
    return 0


def cmd_streams(args: argparse.Namespace) -> int:
    from holded_cli.config import load_config
    from holded_core.settings import parse_settings

    values = load_config(args.config, require_credentials=False).values
    values.setdefault("credentials", {"auth_type": "api_key", "api_key": "not-needed-to-list"})
    for spec in parse_settings(values).streams():
        print(f"{spec.name:24} {spec.kind:8} key={','.join(spec.primary_key) or '-':18} {spec.description}")
    return 0


def cmd_permissions(args: argparse.Namespace) -> int:
    """The API v2 permissions to tick for these streams and writes; with a v2 token, which it lacks."""
    from rich.table import Table

    from holded_cli.config import load_config
    from holded_cli.progress import make_console
    from holded_core import HoldedClient, parse_config
    from holded_core.errors import TOKEN_WHERE, HoldedAuthError
    from holded_core.mappings import MAPPINGS
    from holded_core.permissions import needed, optional_needs, probe
    from holded_core.streams import native_streams, unified_streams

    offered = {spec.name: spec for spec in (*unified_streams(), *native_streams())}
    names = _names(args.streams) or [spec.name for spec in unified_streams()]
    if names == ["all"]:
        names = list(offered)
    writes = _names(args.writes) or []
    unknown = [n for n in names if n not in offered] + [w for w in writes if w not in MAPPINGS]
    if unknown:
        raise UsageError(f"unknown stream {', '.join(unknown)}: pick from `holded streams` (writes: unified ones)")
    needs, unnamed = needed([offered[n] for n in names], writes)
    needs += optional_needs()  # developers:usage.read: the quota check before a sync (optional)
    values = load_config(args.config, getattr(args, "base_url", None), require_credentials=False).values
    probed = False
    if values.get("credentials"):
        config = parse_config(values)
        if config.dialect == "v2":
            _setup_logging(args.verbose)
            try:
                with HoldedClient(config) as client:
                    probe(client, needs)
            except HoldedAuthError:
                raise HoldedConfigError(
                    "`credentials.token`: Holded refused the API token (HTTP 403: Access denied.); make a new "
                    f"token in Holded ({TOKEN_WHERE}) and set HOLDED_API_TOKEN"
                ) from None
            probed = True
    lacking = [n.permission for n in needs if n.granted is False and not n.optional]
    optional_lacking = [n.permission for n in needs if n.granted is False and n.optional]
    if args.json:
        rows = [
            {"permission": n.permission, "used_by": n.used_by, "granted": n.granted, "optional": n.optional}
            for n in needs
        ]
        json.dump({"permissions": rows, "lacking": lacking, "optional_lacking": optional_lacking,
                   "unnamed": unnamed, "probed": probed}, sys.stdout)  # fmt: skip
        sys.stdout.write("\n")
        return 1 if lacking else 0
    console = make_console(sys.stdout)
    table = Table(title="Holded API v2 permissions to tick on the token", title_justify="left")
    for column in ("permission", "used by", *(("this token",) if probed else ())):
        table.add_column(column)
    for need in needs:
        missing = "not ticked (optional)" if need.optional else "MISSING"
        mark = {True: "yes", False: missing, None: "could not tell"}[need.granted]
        table.add_row(need.permission, ", ".join(need.used_by), *((mark,) if probed else ()))
    console.print(table)
    for line in unnamed:
        console.print(f"note: {line}", markup=False)
    for permission in optional_lacking:
        console.print(f"note: without {permission}, `holded sync` does not check the monthly quota first", markup=False)
    if lacking:
        console.print(f"the token lacks {len(lacking)}: {', '.join(lacking)}", markup=False)
    elif not probed:
        console.print("give HOLDED_API_TOKEN (a pat_ token) to check which of them a token has", markup=False)
    return 1 if lacking else 0


def cmd_get(args: argparse.Namespace) -> int:
    """One unified record, read from Holded now (not from DuckDB)."""
    from holded_cli.config import load_config
    from holded_core.lookup import Lookup

    _setup_logging(args.verbose)
    with Lookup(load_config(args.config, getattr(args, "base_url", None)).values) as lookup:
        record = lookup.get(args.model, args.id)
    json.dump(record, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    """Contacts or companies whose name starts with the text, as unified records (JSON lines)."""
    from holded_cli.config import load_config
    from holded_core.lookup import Lookup

    _setup_logging(args.verbose)
    with Lookup(load_config(args.config, getattr(args, "base_url", None)).values) as lookup:
        for record in lookup.search(args.model, args.text):
            sys.stdout.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    return 0


def cmd_proxy(args: argparse.Namespace) -> int:
    from holded_cli.config import load_config
    from holded_core import HoldedClient, parse_config
    from holded_core.basics import credential_refused
    from holded_core.errors import HoldedError

    # The client config alone: a proxied call speaks whichever API its path names (v1, or /v2/... with a token).
    client_config = parse_config(load_config(args.config, getattr(args, "base_url", None)).values)
    try:
        body = json.loads(args.data) if args.data else None
    except json.JSONDecodeError as exc:
        raise UsageError(f"--data is not valid JSON ({exc.msg} at character {exc.pos})") from None
    _setup_logging(args.verbose)
    method = args.method.upper()
    with HoldedClient(client_config) as client:
        try:
            result = client.request(method, args.path, json=body, idempotent=method != "POST")
        except HoldedError as exc:  # a refused credential is the user's to fix: one line naming it, exit 2
            raise credential_refused(exc, client_config) or exc from None
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def _dialect(values: dict[str, Any]) -> str:
    from holded_core import parse_config

    try:
        return parse_config(values).dialect
    except HoldedConfigError:
        return ""


def _names(text: str | None) -> list[str] | None:
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


# ------------------------------------------------------------------------------------- parser

COMMANDS = {
    "sync": cmd_sync,
    "push": cmd_push,
    "events": cmd_events,
    "check": cmd_check,
    "demo": cmd_demo,
    "query": cmd_query,
    "streams": cmd_streams,
    "permissions": cmd_permissions,
    "get": cmd_get,
    "search": cmd_search,
    "proxy": cmd_proxy,
    "webhooks": cmd_webhooks,
}

EPILOG = """config precedence (highest first): flags (--base-url), environment (HOLDED_API_TOKEN or HOLDED_API_KEY,
HOLDED_BASE_URL, HOLDED_DB, HOLDED_WEBHOOK_SECRET, HOLDED_EVENTS_SECRET), the config file (--config FILE or
HOLDED_CONFIG; JSON or YAML, the connectors' own config format)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="holded", description="Holded data connector: local runner", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, db: bool = True, config: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=EPILOG)
        if config:
            p.add_argument("--config", help="connector config file, JSON or YAML (env HOLDED_CONFIG)")
            p.add_argument("--base-url", help="Holded API base URL, e.g. a sandbox's (env HOLDED_BASE_URL)")
        if db:
            p.add_argument("--db", help=f"DuckDB file (env {ENV_DB}; default {DEFAULT_DB})")
        p.add_argument("-v", "--verbose", action="store_true", help="log retries and requests")
        return p

    s = command("sync", "sync Holded into a DuckDB file, incrementally")
    s.add_argument("--streams", help="comma-separated streams (default: the ten unified ones + changeEvents; `all`)")
    s.add_argument("--no-events", action="store_true", help="do not record change events")
    s.add_argument("--full-refresh", action="store_true", help="forget the saved state and re-read everything")
    s.add_argument("--no-progress", action="store_true", help="plain log lines even on a terminal")
    s.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    s.add_argument(
        "--fit-quota",
        action="store_true",
        help="API v2: when the estimated requests pass what is left of the monthly quota, read only the streams "
        "that fit (and name the others) instead of stopping",
    )
    s.add_argument("--webhooks", action=argparse.BooleanOptionalAction, default=None,
                   help="Holded's webhooks keep the streams it sends events for (`holded webhooks serve`): list them "
                   "only every --reconcile-every (default: the config's `webhooks.enabled`, else off)")  # fmt: skip
    s.add_argument("--reconcile-every", metavar="DURATION",
                   help="with webhooks on, list a stream kept by webhooks again once this has passed since its last "
                   "complete listing, e.g. 24h, 12h, 7d (default: `webhooks.reconcile_every`, else 24h)")  # fmt: skip
    s.add_argument("--reconcile", action="store_true", help="with webhooks on, list every stream this run")

    p = command("push", "write rows (DuckDB table or query, CSV or JSONL file) into Holded")
    p.add_argument("--table", help="a table of --db (e.g. one `holded sync` made)")
    p.add_argument("--sql", help="a query over --db")
    p.add_argument("--file", help="a .csv (with a header) or .jsonl file")
    p.add_argument("--stream", help="the unified model of the rows, e.g. genericCompany (default: the table's name)")
    p.add_argument(
        "--lines",
        help="with accountingInvoice: its lines (accountingInvoiceItem rows), a table of --db "
        "or a .csv/.jsonl file; each invoice goes with its lines, so `draft: false` ends approved",
    )
    p.add_argument("--op", choices=("upsert", "create", "update", "delete"), default="upsert")
    p.add_argument("--dry-run", action="store_true", help="show the plan as a table; write nothing")
    p.add_argument("--rejected", help="append every refused record with its reason to this JSONL file")
    p.add_argument("--threshold", type=float, help="fail past this share of refused rows (default 0.1)")
    p.add_argument("--concurrency", type=int, help="records written at the same time (default 4)")
    p.add_argument("--show", type=int, default=50, help="rows of the plan / rejection tables to print")
    p.add_argument("--json", action="store_true", help="print the counts as JSON on stdout")

    e = command("events", "detect changes and deliver them to a webhook (or print them as JSON lines)")
    e.add_argument("--webhook", help="POST each event here, signed with HMAC-SHA256")
    e.add_argument("--secret", help=f"the signing secret (prefer env {ENV_EVENTS_SECRET}; never Holded's whsec_)")
    e.add_argument("--every", help="run on a schedule, e.g. 30s, 5m, 1h (Ctrl-C stops)")
    e.add_argument("--include-existing", action="store_true", help="the first run sends every record as created")
    e.add_argument("--attempts", type=int, default=4, help="tries per event per run (default 4)")
    e.add_argument("--backoff", type=float, default=1.0, help="first retry delay in seconds, doubled each time")
    e.add_argument("--include-own-writes", action="store_true",
                   help="send the events of changes this connector wrote itself (holded push) too")  # fmt: skip

    c = command("check", "check the config: Holded reachable, the credential accepted, which modules it may use",
                db=False)  # fmt: skip
    c.add_argument("--json", action="store_true", help="print the result as JSON on stdout")

    d = sub.add_parser("demo", help="sandbox -> fresh DuckDB file -> summary and example queries (no account)")
    d.add_argument("--db", default="holded-demo.duckdb", help="the DuckDB file to (re)create")
    d.add_argument("--scale", type=float, default=1.0, help="sandbox size (1 ~ 1,000 contacts, 2,000 invoices)")
    d.add_argument("--api-version", choices=("v2", "v1"), default="v2",  # holded_cli.demo.API_VERSIONS
                   help="v2 (default: an API token, Holded's current API) or v1 (an API key, deprecated)")  # fmt: skip
    d.add_argument("--no-progress", action="store_true")
    d.add_argument("-v", "--verbose", action="store_true")

    q = command("query", "run SQL over the DuckDB file and print the answer", config=False)
    q.add_argument("sql")
    q.add_argument("--json", action="store_true", help="JSON lines instead of a table")

    st = command("streams", "list the streams (unified, Holded-native, custom, changeEvents)", db=False)
    st.set_defaults(base_url=None)

    g = command("get", "one unified record, read from Holded now (not from DuckDB), as JSON", db=False)
    g.add_argument("model", help="a unified model, e.g. genericContact, accountingInvoice")
    g.add_argument("id", help="its id (an embedded child's is <parentId>:<childId>)")
    se = command("search", "contacts or companies whose name starts with TEXT, as JSON lines", db=False)
    se.add_argument("model", choices=("genericContact", "genericCompany"))
    se.add_argument("text")

    pm = command("permissions", "the API v2 permissions a token needs for these streams and writes", db=False)
    pm.add_argument("--streams", help="comma-separated streams to read (default: the ten unified ones; `all`)")
    pm.add_argument("--writes", help="comma-separated unified streams to write, e.g. genericCompany,crmOpportunity")
    pm.add_argument("--json", action="store_true", help="print the list as JSON on stdout")

    x = command("proxy", "an authenticated call to any Holded endpoint; prints the JSON answer", db=False)
    x.add_argument("method", help="GET, POST, PUT, PATCH or DELETE")
    x.add_argument(
        "path", help="path under the base URL, e.g. /invoicing/v1/contacts (a v1 key) or /v2/contacts (a token)"
    )
    x.add_argument("--data", help="JSON body")

    _webhooks_parser(sub)
    sub.add_parser(
        "sandbox", help="run the local Holded sandbox, API v1 and v2 (see `holded sandbox --help`)", add_help=False
    )
    return parser


def _webhooks_parser(sub: Any) -> None:
    """`holded webhooks serve` and `register` (each subcommand sets `webhooks_run`, its function)."""
    w = sub.add_parser("webhooks", help="Holded's own webhooks: `holded webhooks serve`, `holded webhooks register`")
    wsub = w.add_subparsers(dest="webhooks_command", required=True, metavar="SUBCOMMAND")
    ws = wsub.add_parser(
        "serve",
        help="receive Holded's webhooks into the DuckDB file: each change read again and merged within a second",
        description="Receive Holded's signed webhooks: each delivery is verified, stored in the DuckDB file "
        "before it is answered, its object read again from Holded and merged into the tables and changeEvents.",
        epilog=EPILOG,
    )
    ws.add_argument("--config", help="connector config file, JSON or YAML (env HOLDED_CONFIG)")
    ws.add_argument("--base-url", help="Holded API base URL, e.g. a sandbox's (env HOLDED_BASE_URL)")
    ws.add_argument("--db", help=f"DuckDB file (env {ENV_DB}; default {DEFAULT_DB})")
    ws.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: put a TLS proxy in front)")
    ws.add_argument("--port", type=int, default=8421, help="port to listen on (default 8421; 0 picks a free one)")
    ws.add_argument("--secret", help=f"Holded's signing secret, whsec_... (prefer env {ENV_WEBHOOK_SECRET})")
    ws.add_argument("--secret-file", help="read Holded's signing secret from the file `holded webhooks register "
                    "--secret-file` wrote")  # fmt: skip
    ws.add_argument("--retry-failed", action="store_true",
                    help="put the deliveries marked failed (10 reads failed) back to pending at start")  # fmt: skip
    ws.add_argument("--streams", help="streams kept up to date (default: the ten unified ones + changeEvents, "
                    "and any other stream the database has a table of)")  # fmt: skip
    ws.add_argument("--webhook", help="deliver the new change events here, as `holded events --webhook` does")
    ws.add_argument("--webhook-secret", help=f"signs those deliveries (prefer env {ENV_EVENTS_SECRET})")
    ws.add_argument("--include-own-writes", action="store_true",
                    help="deliver the events of changes this connector wrote itself too (holded push)")  # fmt: skip
    ws.add_argument("--max-body", type=int, help=f"largest delivery taken, in bytes (default {MAX_BODY_DEFAULT})")
    ws.add_argument("-v", "--verbose", action="store_true", help="log retries and requests")
    ws.set_defaults(webhooks_run=cmd_webhooks_serve)
    wr = wsub.add_parser(
        "register",
        help="register Holded's webhooks for the objects you sync (API v2; else the steps for Holded's UI)",
        description="Register a Holded webhook through API v2 (the token needs developers:webhooks.write; without "
        "it, the steps and events to pick in Holded's UI are printed and nothing is registered). Holded's signing "
        "secret goes to --secret-file, else into the --config file as `webhook_secret`, else (on a terminal only) "
        "is shown once.",
        epilog=EPILOG,
    )
    wr.add_argument("--config", help="connector config file, JSON or YAML (env HOLDED_CONFIG); keeps the secret")
    wr.add_argument("--base-url", help="Holded API base URL, e.g. a sandbox's (env HOLDED_BASE_URL)")
    wr.add_argument(
        "--url", required=True, help="where Holded delivers: your `holded webhooks serve`, e.g. https://..."
    )
    wr.add_argument("--events", help="comma-separated events (invoice.update), objects (invoice) or `all` (default: "
                    "every event of the objects feeding --streams)")  # fmt: skip
    wr.add_argument("--streams", help="the streams you sync, for the default events (default: the ten unified ones)")
    wr.add_argument("--secret-file", help="a new file (owner-only) to keep Holded's signing secret in")
    wr.add_argument("--db", help=f"DuckDB file the registration is recorded in, for `holded sync --webhooks` (env "
                    f"{ENV_DB}; default {DEFAULT_DB})")  # fmt: skip
    wr.add_argument("--json", action="store_true", help="print the registration as JSON (never the secret)")
    wr.add_argument("-v", "--verbose", action="store_true", help="log retries and requests")
    wr.set_defaults(webhooks_run=cmd_webhooks_register)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sandbox"]:
        from holded_sandbox.cli import main as sandbox_main

        return sandbox_main(argv[1:])
    args = build_parser().parse_args(argv)
    prog = f"holded {args.command}" + (f" {args.webhooks_command}" if args.command == "webhooks" else "")

    def bug(exc: Exception) -> int:  # a bug or an environment failure (disk full...): one redacted line
        if getattr(args, "verbose", False):
            raise exc
        first = str(exc).splitlines()[0] if str(exc) else ""
        print(f"{prog}: unexpected {type(exc).__name__}: {redact(first)} (-v shows the traceback)", file=sys.stderr)
        return EXIT_FAILED

    return run_command(
        prog, lambda: COMMANDS[args.command](args), usage=(UsageError, ValueError), failed=(OSError,), on_bug=bug
    )


if __name__ == "__main__":
    sys.exit(main())
