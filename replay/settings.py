"""Run settings: one frozen model, filled from flags, ``REPLAY_*`` variables, a TOML file and defaults.

Precedence, highest first: a flag given on the command line, an environment variable
``REPLAY_<NAME>`` (for example ``REPLAY_CONCURRENCY=8``), the ``[run]`` table of the config
file (``--config FILE``, else ``replay.toml`` in the working directory), then the default.
Secrets are never settings: the token comes from ``WILDMOOSE_API_TOKEN`` or a token file.
"""

from __future__ import annotations

import difflib
import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from replay.errors import ConfigError

__all__ = ["DEFAULT_API_URL", "RunSettings", "load_settings"]

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.wildmoose.ai"
CONFIG_FILE = "replay.toml"
ENV_PREFIX = "REPLAY_"

# Against the real API every execution makes the service query the customer's own metrics,
# logs and traces, so the defaults stay conservative. The simulator has no such cost.
REAL_API_CONCURRENCY = 4
REAL_API_RATE = 2.0
SIMULATOR_CONCURRENCY = 64


class RunSettings(BaseModel):
    """Everything that shapes a run, except secrets. Stored in the run's manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_url: str = DEFAULT_API_URL
    books: tuple[str, ...] = ()
    repeat: int = Field(1, ge=1)
    label: str | None = None
    concurrency: int | None = Field(None, ge=1)
    """Executions in flight; None picks 4 for the real API and 64 for the simulator."""
    rate: float | None = Field(None, ge=0)
    """Requests per second; None picks 2 for the real API and no limit for the simulator; 0 means no limit."""
    burst: int = Field(1, ge=1)
    timeout: float = Field(300.0, gt=0)
    batch_size: int = Field(1, ge=1, le=10)
    max_attempts: int = Field(5, ge=1)
    max_retry_after: float = Field(300.0, gt=0)
    execution_deadline: float = Field(1800.0, gt=0)
    """Seconds one execution may take across all its attempts and waits."""
    max_failures: float | None = Field(None, gt=0)
    grace_period: float = Field(30.0, ge=0)
    limit: int | None = Field(None, ge=1)
    sample: int | None = Field(None, ge=1)
    seed: int = 0
    shard: str | None = None
    out: str = "runs"
    reports_dir: str = "reports"
    columns: dict[str, str] = Field(default_factory=dict)
    """Dataset column mapping: field name -> column name in the file."""
    time_zone: str | None = None
    allow_partial_dates: bool = False
    skip_invalid: bool = False
    scorers: tuple[str, ...] = ()
    token_file: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    audience: str | None = None
    simulator_latency: float = Field(0.2, ge=0)
    """Scale of the built-in simulator's latency profile; 0 answers at once."""

    @field_validator("books")
    @classmethod
    def _check_books(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not name.strip() for name in value):
            msg = "a book name must not be empty"
            raise ValueError(msg)
        return value

    @field_validator("max_failures")
    @classmethod
    def _check_max_failures(cls, value: float | None) -> float | None:
        if value is not None and value >= 1 and value != int(value):
            msg = "must be a whole count (1 or more) or a fraction below 1, such as 0.2"
            raise ValueError(msg)
        return value

    @field_validator("api_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            msg = "must start with https:// (or http:// for a local simulator)"
            raise ValueError(msg)
        return value.rstrip("/")

    def effective_concurrency(self, simulator: bool) -> int:
        """Return the concurrency to use, resolving the automatic default."""
        if self.concurrency is not None:
            return self.concurrency
        return SIMULATOR_CONCURRENCY if simulator else REAL_API_CONCURRENCY

    def effective_rate(self, simulator: bool) -> float | None:
        """Return the rate limit in requests per second, or None for no limit."""
        if self.rate is not None:
            return self.rate or None
        return None if simulator else REAL_API_RATE


def load_settings(
    flags: Mapping[str, Any],
    *,
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    base: Mapping[str, Any] | None = None,
) -> RunSettings:
    """Merge settings by precedence and validate them.

    Args:
        flags: values the user gave on the command line (only those).
        config_path: a TOML file; defaults to ``replay.toml`` when it exists.
        environ: the environment (``os.environ`` by default).
        base: lowest-precedence values above the defaults, for example a resumed run's manifest.
    """
    environ = os.environ if environ is None else environ
    merged: dict[str, Any] = dict(base or {})
    merged.update(_read_config(config_path))
    merged.update(_read_environment(environ))
    merged.update({k: v for k, v in flags.items() if v is not None})
    try:
        return RunSettings(**merged)
    except ValidationError as exc:
        problems = "; ".join(_describe_error(e) for e in exc.errors())
        msg = f"invalid settings: {problems}. Fix the flag, the REPLAY_* variable or the config file."
        raise ConfigError(msg) from None


def _describe_error(error: Any) -> str:
    name = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(name, RunSettings.model_fields, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown setting {name!r}{hint}"
    return f"{name}: {error['msg'].removeprefix('Value error, ')} (got {error.get('input')!r})"


def _read_config(config_path: Path | None) -> dict[str, Any]:
    path = config_path or Path(CONFIG_FILE)
    if config_path is None and not path.exists():
        return {}
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        msg = f"the config file {str(path)!r} does not exist. Check the path given to --config."
        raise ConfigError(msg) from None
    except tomllib.TOMLDecodeError as exc:
        msg = f"the config file {str(path)!r} is not valid TOML: {exc}. Fix the syntax."
        raise ConfigError(msg) from None
    except UnicodeDecodeError:
        msg = f"the config file {str(path)!r} is not UTF-8 text. Save it as UTF-8."
        raise ConfigError(msg) from None
    except OSError as exc:
        msg = f"cannot read the config file {str(path)!r}: {exc.strerror}. Check the path and its permissions."
        raise ConfigError(msg) from None
    table = document.get("run", document)
    if not isinstance(table, dict):
        msg = f"the [run] entry of {str(path)!r} must be a table of settings."
        raise ConfigError(msg)
    return dict(table)


# REPLAY_* variables that other parts of replay read; anything else unknown gets a warning
OTHER_VARIABLES = frozenset({"LOG_LEVEL", "JUDGE_URL", "JUDGE_API_KEY", "JUDGE_MODEL", "JUDGE_RATE",
                             "JUDGE_MAX_ERROR_RATE", "SIMULATOR_TOKEN"})


def _read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for variable in environ:
        suffix = variable[len(ENV_PREFIX):]
        if variable.startswith(ENV_PREFIX) and suffix.lower() not in RunSettings.model_fields \
                and suffix not in OTHER_VARIABLES:
            close = difflib.get_close_matches(suffix.lower(), RunSettings.model_fields, n=1)
            hint = f"; did you mean {ENV_PREFIX}{close[0].upper()}?" if close else ""
            logger.warning("ignoring the unknown environment variable %s%s", variable, hint)
    for name in RunSettings.model_fields:
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is None:
            continue
        if name in ("books", "scorers"):
            values[name] = tuple(part.strip() for part in raw.split(",") if part.strip())
        elif name == "columns":
            values[name] = dict(_split_mapping(part, f"{ENV_PREFIX}COLUMNS") for part in raw.split(",") if part)
        else:
            values[name] = raw
    return values


def _split_mapping(text: str, where: str) -> tuple[str, str]:
    name, sep, source = text.partition("=")
    if not sep or not name.strip() or not source.strip():
        msg = f"{where}: {text!r} is not of the form FIELD=COLUMN, for example root_cause=summary."
        raise ConfigError(msg)
    return name.strip(), source.strip()


def parse_column_mapping(items: tuple[str, ...]) -> dict[str, str]:
    """Parse repeated ``--column FIELD=COLUMN`` values."""
    return dict(_split_mapping(item, "--column") for item in items)
