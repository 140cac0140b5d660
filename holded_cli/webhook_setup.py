"""`holded webhooks register`: register Holded's webhooks for the objects the user syncs, through API v2 when
the token may, and otherwise say exactly what to do in Holded's UI.

Holded registers webhooks in Settings > Developers > Webhooks (a URL, events picked by area) or, per one live
report, through `POST /api/v2/webhooks {url, events[], version, description}` with the permission
`developers:webhooks.write`; the answer carries the signing secret (`whsec_...`), shown that once
(shared/holded-api/v2/README.md, "Webhooks"). So:

- the events default to every event of the objects feeding the streams the user syncs
  (`holded_core.webhook_plan.default_events`: the ten unified streams -> `contact.*` and `invoice.*`);
- one request: the `POST` itself tells whether the token may (a 403 naming `developers:webhooks.write`
  registers nothing). Without the permission, or where Holded does not serve the route, the steps for
  Holded's UI are printed with the events to tick, by area, and nothing is registered (exit 2, exit 1);
- an API v1 key: one line saying webhooks need an API v2 token (exit 2), before any request.

**The secret.** Where it goes is decided, and checked to be writable, before the registration, so a
secret Holded shows once is never lost and never printed where it could land in a log:
1. `--secret-file PATH`: a new file holding only the secret, created owner-only (0600); an existing file
   is refused (it may hold an earlier webhook's secret);
2. else the config file the user named (`--config` or `HOLDED_CONFIG`): written back with the secret as
   `webhook_secret` (where `holded webhooks serve` reads it), atomically and owner-only; a config that
   already holds one is refused (the receiver verifies with one secret);
3. else, only when stdout is a terminal, printed there once;
4. else the command stops before registering (exit 2), naming `--secret-file` and `--config`.
The secret is registered with the redaction registry the moment it arrives (`holded_core.secrets`), so no
log line, error or `--json` output carries it; only the one deliberate display of case 3 does.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from holded_cli.config import LoadedConfig, read_file, write_file
from holded_core.basics import basics_error
from holded_core.client import HoldedClient
from holded_core.errors import (
    TOKEN_WHERE,
    HoldedAmbiguousWriteError,
    HoldedConfigError,
    HoldedError,
    HoldedMissingPermissionError,
    HoldedNotFoundError,
    HoldedRequestError,
)
from holded_core.secrets import register_secret
from holded_core.streams import StreamSpec
from holded_core.webhook_plan import by_area, default_events, parse_events

PERMISSION = "developers:webhooks.write"
ROUTE = "/v2/webhooks"
CONFIG_KEY = "webhook_secret"  # the config file's key `holded webhooks serve` reads Holded's secret from
DESCRIPTION = "holded-connector: holded webhooks serve"
V1_KEY = (
    "webhooks need an API v2 token (pat_...), and the credential is an API v1 key: make a token in Holded "
    f"({TOKEN_WHERE}) with {PERMISSION} and set HOLDED_API_TOKEN"
)


class NotRegistered(HoldedError):
    """Holded registered nothing; the steps for its UI were printed (exit 1, or 2 for `PermissionMissing`)."""


class PermissionMissing(HoldedConfigError):
    """The token lacks `developers:webhooks.write`: nothing registered, the steps for Holded's UI printed."""


@dataclass
class Registered:
    """A webhook Holded registered.

    Attributes:
        id: Holded's id for it.
        url: where Holded delivers.
        events: the events it delivers.
        secret_saved_to: the file holding the secret, or "terminal" when it was shown there once.
    """

    id: str
    url: str
    events: list[str]
    secret_saved_to: str

    def as_json(self) -> dict[str, Any]:
        """What `--json` prints (never the secret)."""
        return {"registered": True, "id": self.id, "url": self.url, "events": self.events,
                "secret_saved_to": self.secret_saved_to}  # fmt: skip


@dataclass
class SecretSink:
    """Where Holded's signing secret goes (see the module docstring), chosen before registering.

    Attributes:
        kind: `file` (a new owner-only file), `config` (the config file's `webhook_secret`) or `terminal`.
        path: the file for `file` and `config`.
    """

    kind: str
    path: Path | None = None
    _created: bool = field(default=False, repr=False)

    @property
    def shown(self) -> str:
        return str(self.path) if self.path is not None else "terminal"

    def prepare(self) -> None:
        """Make sure the secret can be kept before anything is registered.

        Raises:
            HoldedConfigError: the secret file exists or cannot be made; the config file cannot be written
                or already holds a `webhook_secret`.
        """
        assert self.path is not None or self.kind == "terminal"
        if self.kind == "file":
            assert self.path is not None
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                raise HoldedConfigError(
                    f"--secret-file {self.path} exists (it may hold an earlier webhook's secret): give a new path"
                ) from None
            except OSError as exc:
                raise HoldedConfigError(f"--secret-file {self.path}: cannot create it ({exc.strerror})") from None
            os.close(fd)
            self._created = True
        elif self.kind == "config":
            assert self.path is not None
            if read_file(self.path).get(CONFIG_KEY):
                raise HoldedConfigError(
                    f"{self.path} already holds `{CONFIG_KEY}` (a webhook registered before; `holded webhooks "
                    "serve` verifies with one secret): give --secret-file PATH for the new one, or delete the old "
                    f"webhook in Holded and remove `{CONFIG_KEY}` from the file"
                )
            if not os.access(self.path, os.W_OK) or not os.access(self.path.parent, os.W_OK):
                raise HoldedConfigError(f"{self.path}: cannot write the config file to keep the secret; "
                                        "give --secret-file PATH")  # fmt: skip

    def discard(self) -> None:
        """Nothing was registered: remove the empty secret file `prepare` made."""
        if self._created and self.path is not None:
            self.path.unlink(missing_ok=True)
            self._created = False

    def keep(self, secret: str, out: TextIO) -> None:
        """Keep the secret: write it (owner-only) or, for `terminal`, print it to `out` once.

        Raises:
            OSError: the file could not be written.
        """
        if self.kind == "terminal":
            out.write(f"Holded's signing secret, shown once and saved nowhere: {secret}\n"
                      "keep it where `holded webhooks serve` reads it: HOLDED_WEBHOOK_SECRET, or "
                      f"`{CONFIG_KEY}` in the config file\n")  # fmt: skip
            out.flush()
            return
        assert self.path is not None
        if self.kind == "file":
            fd = os.open(self.path, os.O_WRONLY | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(secret + "\n")
            os.chmod(self.path, 0o600)
            self._created = False
            return
        data = read_file(self.path)
        data[CONFIG_KEY] = secret
        write_file(self.path, data)


def secret_sink(secret_file: str | None, loaded: LoadedConfig, is_terminal: bool) -> SecretSink:
    """Choose where the secret goes (the order of the module docstring).

    Raises:
        HoldedConfigError: no file named and stdout is not a terminal (the secret would end in a log or be lost).
    """
    if secret_file:
        return SecretSink("file", Path(secret_file))
    if loaded.path is not None:
        return SecretSink("config", loaded.path)
    if is_terminal:
        return SecretSink("terminal")
    raise HoldedConfigError(
        "Holded shows the webhook's signing secret once, and stdout is not a terminal: give --secret-file PATH "
        f"(a new owner-only file) or --config FILE (it is written there as `{CONFIG_KEY}`) to keep it"
    )


def events_for(requested: Sequence[str] | None, streams: Sequence[StreamSpec]) -> list[str]:
    """The events to register: `--events` as given, else every event of the objects feeding `streams`.

    Raises:
        HoldedConfigError: an unknown event, or none of the streams has Holded events (one line naming them).
    """
    if requested:
        return parse_events(requested)
    events = default_events(streams)
    if not events:
        names = ", ".join(spec.name for spec in streams if spec.listing is not None)
        raise HoldedConfigError(
            f"Holded sends no webhook events for the streams synced ({names}): pass --events (e.g. invoice,contact) "
            "or --streams naming streams it sends events for (contacts, invoices and other documents, products...)"
        )
    return events


def ui_steps(url: str, events: Sequence[str]) -> list[str]:
    """The steps to register the webhook by hand in Holded's UI, with the events to tick by area."""
    lines = [
        "Register the webhook by hand in Holded:",
        "  1. Settings > Developers > Webhooks > add a webhook",
        f"  2. URL: {url}",
        f"  3. tick these {len(events)} events:",
    ]
    for area, names in by_area(events).items():
        lines.append(f"       {area}: {', '.join(names)}")
    lines += [
        "  4. save, and copy the signing secret Holded shows once (whsec_...) into the config file as "
        f"`{CONFIG_KEY}` (or HOLDED_WEBHOOK_SECRET) for `holded webhooks serve`",
    ]
    return lines


def register(
    client: HoldedClient,
    url: str,
    events: Sequence[str],
    sink: SecretSink,
    *,
    out: TextIO = sys.stdout,
    show_steps: Callable[[list[str]], None] | None = None,
) -> Registered:
    """Register a webhook through `POST /v2/webhooks` and keep its secret in `sink`.

    Args:
        client: a client with an API v2 token (the caller refuses a v1 key first).
        url: where Holded delivers (http(s)).
        events: the event names (`invoice.update`...).
        sink: where the secret goes (prepared here, before the request).
        out: the terminal, for a `terminal` sink.
        show_steps: prints the steps for Holded's UI when nothing could be registered (default: to `out`).

    Returns:
        The registration (its id, events and where the secret is).

    Raises:
        PermissionMissing: the token lacks `developers:webhooks.write` (nothing registered; the steps shown).
        NotRegistered: Holded does not serve the route (404/405): the steps shown; or the answer carried no
            secret, or the answer was lost (the webhook may exist: check Holded's list before trying again).
        HoldedConfigError: Holded refused the URL or the events (422, its reason), the secret cannot be kept,
            or the credential or `base_url` is wrong (`HoldedBasicsError`).
        HoldedError: another failure of Holded's.
    """
    show = show_steps or (lambda lines: out.write("\n".join(lines) + "\n"))
    sink.prepare()
    try:
        answer = client.request(
            "POST", ROUTE, json={"url": url, "events": list(events), "description": DESCRIPTION}, idempotent=False
        )
    except HoldedMissingPermissionError as exc:
        sink.discard()
        show(ui_steps(url, events))
        raise PermissionMissing(
            f"the Holded API token lacks {exc.permission}, so nothing was registered: add the webhook by hand "
            f"(the steps above), or make a new token with {PERMISSION} ({TOKEN_WHERE}; a token's permissions are "
            "chosen when it is made) and run this again with it"
        ) from None
    except HoldedAmbiguousWriteError as exc:
        sink.discard()
        raise NotRegistered(
            f"Holded's answer to the registration was lost ({exc.message}): it may have registered the webhook, "
            "whose secret is then unknown; check Settings > Developers > Webhooks, delete it there, and run this again"
        ) from None
    except (HoldedNotFoundError, HoldedRequestError) as exc:
        sink.discard()
        if isinstance(exc, HoldedNotFoundError) or exc.status_code == 405:
            show(ui_steps(url, events))
            raise NotRegistered(
                f"Holded's API did not take the registration (POST {ROUTE}: HTTP {exc.status_code}), so nothing "
                "was registered: add the webhook by hand (the steps above)"
            ) from None
        refused = basics_error(exc, client.config)
        if refused is not None:
            raise refused from None
        raise HoldedConfigError(f"Holded refused the webhook: {exc.message}; check --url and --events") from None
    except HoldedError as exc:
        sink.discard()
        refused = basics_error(exc, client.config)
        raise (refused or exc) from None
    secret = str(answer.get("secret") or "") if isinstance(answer, dict) else ""
    hook_id = str(answer.get("id") or "") if isinstance(answer, dict) else ""
    register_secret(secret)
    if not secret:
        sink.discard()
        raise NotRegistered(
            f"Holded registered webhook {hook_id or '(no id)'} but its answer carried no signing secret: copy it from "
            "Settings > Developers > Webhooks, or delete the webhook there and run this again"
        )
    try:
        sink.keep(secret, out)
    except OSError as exc:
        raise NotRegistered(
            f"Holded registered webhook {hook_id} but its secret could not be written to {sink.shown} "
            f"({exc.strerror}): delete the webhook in Holded (Settings > Developers > Webhooks) and run this again"
        ) from None
    return Registered(hook_id, url, list(events), sink.shown)


def record_registration(db: Path, done: Registered) -> str | None:
    """Record in the DuckDB file what Holded registered (id, URL, events, when): `holded sync --webhooks` leaves
    a stream to the webhooks only when its object's events are recorded here (or in `webhooks.events`).

    Returns:
        None when recorded; else the one line saying it was not, and what to do (the webhook exists anyway).
    """
    from holded_cli.store import REGISTERED, Store

    try:
        with Store(db) as store:
            store.con.execute(
                f"INSERT INTO {REGISTERED} VALUES (?, ?, ?, now())", [done.id, done.url, json.dumps(done.events)]
            )
    except (HoldedError, OSError) as exc:
        return (
            f"the registration could not be recorded in {db} ({exc}): `holded sync --webhooks` will list these "
            f"objects as usual until `webhooks: {{events: [{', '.join(done.events)}]}}` is in the config"
        )
    return None


def registered_events(con: Any) -> set[str]:
    """Every event `holded webhooks register` recorded in this DuckDB file."""
    from holded_cli.store import REGISTERED

    rows = con.execute(f"SELECT events FROM {REGISTERED}").fetchall()
    return {str(event) for (events,) in rows if events for event in json.loads(events)}


def refuse_v1(dialect: str) -> None:
    """One line for an API v1 key: webhooks are registered with an API v2 token.

    Raises:
        HoldedConfigError: `dialect` is not v2.
    """
    if dialect != "v2":
        raise HoldedConfigError(V1_KEY)
