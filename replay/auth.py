"""Bearer tokens for the execution API: a static token, or an OAuth client-credentials exchange.

Secrets live only in memory. Their ``repr`` is masked, and no message built here contains them.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import anyio
import httpx

from replay.errors import ConfigError, RemoteCallError

__all__ = [
    "TOKEN_ENV",
    "ClientCredentials",
    "StaticToken",
    "TokenProvider",
    "load_static_token",
]

logger = logging.getLogger(__name__)

TOKEN_ENV = "WILDMOOSE_API_TOKEN"
CLIENT_SECRET_ENV = "WILDMOOSE_CLIENT_SECRET"
# refresh a token this many seconds before its stated expiry
REFRESH_MARGIN_S = 60.0


class TokenProvider(Protocol):
    """Something that supplies the bearer token for each request."""

    can_refresh: bool

    async def token(self, *, refresh: bool = False, rejected: str | None = None) -> str:
        """Return a valid token.

        ``refresh`` forces a new one when the provider can. With ``rejected`` (the token
        the API refused), the provider fetches only if that is still its current token, so
        requests that fail together with one expired token cause one refresh, not many.
        """
        ...


@dataclass(frozen=True)
class StaticToken:
    """A pre-issued token, read from the environment or a file."""

    value: str = field(repr=False)
    can_refresh: bool = False

    async def token(self, *, refresh: bool = False, rejected: str | None = None) -> str:
        return self.value

    def __repr__(self) -> str:
        return "StaticToken(value='***')"


def load_static_token(token_file: Path | None = None, *, env_name: str = TOKEN_ENV) -> StaticToken | None:
    """Read the token from ``token_file`` or else from the environment variable ``env_name``.

    Returns None when neither is set. Raises ConfigError for an unreadable or empty file.
    """
    if token_file is not None:
        try:
            text = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            msg = f"cannot read the token file {str(token_file)!r}: {exc.strerror}. Check the path given to --token-file."
            raise ConfigError(msg) from None
        if not text:
            msg = f"the token file {str(token_file)!r} is empty. Write the API token into it, on one line."
            raise ConfigError(msg)
        _check_token(text, f"the token file {str(token_file)!r}")
        return StaticToken(text)
    value = os.environ.get(env_name, "").strip()
    if value:
        _check_token(value, f"the {env_name} variable")
    return StaticToken(value) if value else None


def _check_token(token: str, source: str) -> None:
    # a line break or control character would be rejected by the HTTP layer mid-run; the
    # message names the source only, never the value
    if any(ord(char) < 33 or ord(char) == 127 for char in token):
        msg = (f"{source} holds more than one line, spaces or control characters. "
               "Write the API token alone, on one line.")
        raise ConfigError(msg)


class ClientCredentials:
    """Fetch and refresh a token with the OAuth 2.0 client-credentials grant (as Auth0 serves it).

    Args:
        token_url: the tenant's token endpoint, for example ``https://TENANT/oauth/token``.
        client_id: the application's client id.
        client_secret: the application's secret; never logged.
        audience: the API audience the token is issued for.
        timeout: seconds for one token request.
    """

    can_refresh = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        audience: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.audience = audience
        self._timeout = timeout
        self._transport = transport
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = anyio.Lock()

    def __repr__(self) -> str:
        return f"ClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r}, client_secret='***')"

    async def token(self, *, refresh: bool = False, rejected: str | None = None) -> str:
        async with self._lock:
            fresh = self._token is not None and time.monotonic() < self._expires_at - REFRESH_MARGIN_S
            # another request already replaced the rejected token while this one waited for the lock
            replaced = rejected is not None and rejected != self._token
            if (refresh and not replaced) or not fresh:
                await self._fetch()
            assert self._token is not None
            return self._token

    async def _fetch(self) -> None:
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self._client_secret}
        if self.audience:
            form["audience"] = self.audience
        try:
            async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as client:
                response = await client.post(self.token_url, data=form)
        except httpx.HTTPError as exc:
            msg = f"the token request to {self.token_url} failed: {type(exc).__name__}. Check --token-url and the network."
            raise RemoteCallError(msg) from None
        if response.status_code != 200:
            msg = (
                f"the token endpoint {self.token_url} answered HTTP {response.status_code}. "
                "Check the client id, the client secret and the audience."
            )
            raise RemoteCallError(msg)
        try:
            body = response.json()
            token = body["access_token"]
            lifetime = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            msg = f"the token endpoint {self.token_url} returned no access_token. Check that it is an OAuth token URL."
            raise RemoteCallError(msg) from None
        self._token = str(token)
        self._expires_at = time.monotonic() + lifetime
        logger.info("obtained an API token from %s, valid for %.0f s", self.token_url, lifetime)
