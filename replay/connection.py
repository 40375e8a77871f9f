"""The connection of a run to the API: the bearer token, the HTTP client, or the in-process simulator."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx

from replay import __version__
from replay.auth import CLIENT_SECRET_ENV, TOKEN_ENV, ClientCredentials, StaticToken, TokenProvider, load_static_token
from replay.engine import EngineSettings
from replay.errors import ConfigError
from replay.models import Incident
from replay.settings import RunSettings

__all__ = ["api_endpoint", "http_client", "token_provider"]

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def api_endpoint(settings: RunSettings, simulator: bool, world: list[Incident]) -> Iterator[tuple[str, TokenProvider]]:
    if not simulator:
        yield settings.api_url, token_provider(settings)
        return
    from replay.simulator import SimulatorConfig, World, create_app, serve_in_thread

    # a fresh random token proves that auth works end to end; it is never written anywhere
    token = secrets.token_urlsafe(24)
    config = SimulatorConfig(world=World.from_incidents(world), token=token, seed=settings.seed,
                             latency_scale=settings.simulator_latency)
    with serve_in_thread(create_app(config)) as base_url:
        logger.info("serving the built-in simulator at %s", base_url)
        yield base_url, StaticToken(token)


def token_provider(settings: RunSettings) -> TokenProvider:
    if settings.token_url:
        secret = os.environ.get(CLIENT_SECRET_ENV, "")
        if not settings.client_id or not secret:
            msg = (f"--token-url needs --client-id and the client secret in the {CLIENT_SECRET_ENV} environment "
                   "variable. Set both, or use a static token in " + TOKEN_ENV + ".")
            raise ConfigError(msg)
        return ClientCredentials(settings.token_url, settings.client_id, secret, settings.audience)
    token = load_static_token(Path(settings.token_file) if settings.token_file else None)
    if token is None:
        msg = (f"no API token: set the {TOKEN_ENV} environment variable (or pass --token-file FILE), "
               "or run against the built-in simulator with --simulator.")
        raise ConfigError(msg)
    return token


@contextlib.asynccontextmanager
async def http_client(base_url: str, settings: EngineSettings):
    from httpx_aiohttp import AiohttpTransport

    # the pool wait is bounded by the engine's own concurrency cap, so httpx's pool timeout is
    # switched off: otherwise requests queued behind the cap would fail with PoolTimeout
    limits = httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency)
    transport = AiohttpTransport(limits=limits, verify=True)
    timeout = httpx.Timeout(settings.timeout, pool=None)
    async with httpx.AsyncClient(base_url=base_url, transport=transport, timeout=timeout,
                                 headers={"User-Agent": f"replay/{__version__}"}) as client:
        # the execution client sends through the transport directly (see ExecutionClient)
        yield client, transport
