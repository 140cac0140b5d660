"""Where the runner's connector config comes from, and in which order.

Precedence, highest first: command-line flags (`--base-url`), environment variables
(`HOLDED_API_TOKEN` for a Holded API v2 token, `HOLDED_API_KEY` for a v1 key, `HOLDED_BASE_URL`), the
config file (`--config FILE` or `HOLDED_CONFIG`, JSON or YAML in the connectors' own config format). A
credential from the environment replaces the file's.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from holded_core.config import expand_shorthand
from holded_core.errors import HoldedConfigError

ENV_API_KEY = "HOLDED_API_KEY"
ENV_API_TOKEN = "HOLDED_API_TOKEN"
ENV_BASE_URL = "HOLDED_BASE_URL"
ENV_CONFIG = "HOLDED_CONFIG"
NO_CREDENTIALS = (
    f"no Holded credential: set {ENV_API_TOKEN} (an API v2 token, pat_...) or {ENV_API_KEY} (a v1 key), "
    "or pass --config FILE holding `credentials`"
)


@dataclass
class LoadedConfig:
    values: dict[str, Any]
    path: Path | None  # the file it came from, if any (a rotated OAuth refresh token is written back there)

    def save_refresh_token(self, token: str) -> bool:
        """Persist a rotated refresh token into the config file (atomically, owner-only); False if no file."""
        if self.path is None or self.values.get("credentials", {}).get("auth_type") != "oauth2":
            return False
        data = read_file(self.path)
        data.setdefault("credentials", {})["refresh_token"] = token
        write_file(self.path, data)
        self.values["credentials"]["refresh_token"] = token
        return True

    def token_writer(self, warn: Callable[[str], None], *, always: bool = False) -> Callable[[str], None]:
        """A `holded_core.adapter.TokenHandBack` saver: writes each rotated refresh token back to the file.

        Args:
            warn: prints a warning line.
            always: warn even when the token was written (under Meltano the config file is a temporary
                copy: the setting itself must be updated); otherwise only when it could not be.

        Returns:
            The saver, to be called with the new token (from the client's thread).
        """

        def save(token: str) -> None:
            saved = self.save_refresh_token(token)
            if always or not saved:
                where = f"written back to {self.path}" if saved else "not saved"
                warn(f"Holded rotated the OAuth refresh token ({where}); update `credentials.refresh_token`")

        return save


def read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise HoldedConfigError(f"{path}: cannot read the config file ({exc.strerror}); check --config") from None
    try:
        loaded = yaml.safe_load(text) if text.strip() else {}  # YAML is a superset of JSON
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise HoldedConfigError(f"{path}: not valid JSON or YAML{where}; fix the file's syntax") from None
    if not isinstance(loaded, dict):
        raise HoldedConfigError(f'{path}: the config file must hold an object such as {{"credentials": ...}}')
    return loaded


def write_file(path: Path, data: Mapping[str, Any]) -> None:
    """Write a config file back, atomically and owner-only (it holds secrets), in its own format (JSON
    for `.json`, else YAML; YAML comments are not kept)."""
    text = (
        json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        if path.suffix.lower() == ".json"
        else yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".holded-config-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def load_config(
    config_path: str | None,
    base_url: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    require_credentials: bool = True,
) -> LoadedConfig:
    env = os.environ if env is None else env
    path_text = config_path or env.get(ENV_CONFIG)
    path = Path(path_text) if path_text else None
    # A top-level `api_token` / `api_key` in the file is shorthand for its `credentials` (as for the connectors).
    values: dict[str, Any] = expand_shorthand(read_file(path)) if path else {}
    if env.get(ENV_API_TOKEN) and env.get(ENV_API_KEY):
        raise HoldedConfigError(f"both {ENV_API_TOKEN} and {ENV_API_KEY} are set: keep the one this run should use")
    if env.get(ENV_API_TOKEN):
        values["credentials"] = {"auth_type": "api_token", "token": env[ENV_API_TOKEN]}
    elif env.get(ENV_API_KEY):
        values["credentials"] = {"auth_type": "api_key", "api_key": env[ENV_API_KEY]}
    if env.get(ENV_BASE_URL):
        values["base_url"] = env[ENV_BASE_URL]
    if base_url:
        values["base_url"] = base_url
    if require_credentials and not values.get("credentials"):
        raise HoldedConfigError(NO_CREDENTIALS)
    return LoadedConfig(values, path)
