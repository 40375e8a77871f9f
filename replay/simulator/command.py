"""The ``simulate`` command: serve the API simulator on 127.0.0.1 in the foreground."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from replay.errors import ReplayError
from replay.simulator.books import load_books
from replay.simulator.config import FaultConfig, SimulatorConfig

__all__ = ["simulate"]

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_TOKEN_ENV = "REPLAY_SIMULATOR_TOKEN"

_rate = click.FloatRange(0.0, 1.0)


@click.command("simulate")
@click.option(
    "--world",
    "world_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Dataset whose labeled incidents the simulator knows (CSV, Parquet or JSONL). "
    "Default: no incidents, so every request gets a 'No anomaly found' answer.",
)
@click.option(
    "--books",
    "books_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file of books, in the format of the bundled books.toml. Default: the bundled books.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="TCP port on 127.0.0.1; 0 picks a free one.",
)
@click.option(
    "--token-env",
    default=DEFAULT_TOKEN_ENV,
    show_default=True,
    help="Environment variable holding the bearer token to require. "
    "When it is unset, any non-empty bearer token is accepted.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the simulated results, latencies and faults.",
)
@click.option(
    "--latency-scale",
    type=click.FloatRange(min=0.0),
    default=1.0,
    show_default=True,
    help="Factor on the books' latencies; 0 responds at once.",
)
@click.option(
    "--error-rate",
    type=_rate,
    default=0.0,
    show_default=True,
    help="Fraction of requests that get an HTTP 500 or 503 response.",
)
@click.option(
    "--rate-429",
    type=_rate,
    default=0.0,
    show_default=True,
    help="Fraction of requests that get an HTTP 429 response with Retry-After.",
)
@click.option(
    "--retry-after",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Seconds announced in Retry-After of 429 and 503 responses.",
)
@click.option(
    "--hang-rate",
    type=_rate,
    default=0.0,
    show_default=True,
    help="Fraction of requests that stall for --hang-seconds first.",
)
@click.option(
    "--hang-seconds",
    type=click.FloatRange(min=0.0),
    default=30.0,
    show_default=True,
    help="Stall of a hanging request, in seconds.",
)
@click.option(
    "--malformed-rate",
    type=_rate,
    default=0.0,
    show_default=True,
    help="Fraction of 200 responses whose body is not JSON.",
)
@click.option(
    "--truncated-rate",
    type=_rate,
    default=0.0,
    show_default=True,
    help="Fraction of 200 responses whose JSON body is cut short.",
)
@click.option(
    "--short-batch-rate",
    type=_rate,
    default=0.0,
    show_default=True,
    help="Fraction of batch responses missing their last result.",
)
@click.option(
    "--error-200-rate",
    type=_rate,
    default=0.0,
    show_default=True,
    help="Fraction of results replaced by HTTP 200 with an 'error' (failed investigation).",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0.0, min_open=True),
    default=None,
    help="Server-side limit in requests per second; 429 beyond it. Default: none.",
)
@click.option(
    "--retention-days",
    type=click.FloatRange(min=0.0),
    default=None,
    help="Requests with a time older than this many days get the 'No data available' error. "
    "Default: unlimited.",
)
@click.option(
    "--forbidden",
    is_flag=True,
    help="Respond to every request with 403, as for an organization without API access.",
)
@click.option(
    "--request-log",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="JSONL file receiving one line per request, with the simulator's decisions.",
)
def simulate(
    world_path: Path | None,
    books_path: Path | None,
    port: int,
    token_env: str,
    seed: int,
    latency_scale: float,
    error_rate: float,
    rate_429: float,
    retry_after: int,
    hang_rate: float,
    hang_seconds: float,
    malformed_rate: float,
    truncated_rate: float,
    short_batch_rate: float,
    error_200_rate: float,
    rate_limit: float | None,
    retention_days: float | None,
    forbidden: bool,
    request_log: Path | None,
) -> None:
    """Serve the built-in Wild Moose API simulator on 127.0.0.1.

    It serves POST /playbook/execution and POST /playbook/execution/batch like the real
    API, with results drawn from the books' skills for the incidents of --world.
    """
    # Imported here so that `replay --help` stays fast.
    import uvicorn

    from replay.simulator.app import create_app
    from replay.simulator.world import World

    try:
        world = World.from_dataset(world_path) if world_path is not None else None
        books = load_books(books_path) if books_path is not None else None
        token = os.environ.get(token_env) or None
        config = SimulatorConfig(
            world=world,
            books=books,
            token=token,
            is_forbidden=forbidden,
            seed=seed,
            latency_scale=latency_scale,
            faults=FaultConfig(
                error_5xx_rate=error_rate,
                rate_429=rate_429,
                retry_after_s=retry_after,
                hang_rate=hang_rate,
                hang_s=hang_seconds,
                malformed_rate=malformed_rate,
                truncated_rate=truncated_rate,
                short_batch_rate=short_batch_rate,
                error_200_rate=error_200_rate,
            ),
            rate_limit_rps=rate_limit,
            retention_days=retention_days,
            request_log_path=request_log,
        )
        app = create_app(config)
    except ReplayError as exc:
        raise click.ClickException(str(exc)) from exc

    incidents = len(world) if world is not None else 0
    auth = f"token from ${token_env}" if token else f"any bearer token (${token_env} is unset)"
    click.echo(
        f"simulator: http://{HOST}:{port} ({incidents} incidents, "
        f"books {', '.join(app.state.simulator.books)}, {auth})",
        err=True,
    )
    uvicorn.run(app, host=HOST, port=port, log_level="warning", access_log=False, lifespan="on")
