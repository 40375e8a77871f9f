"""Authentication: 401 and 403 stop the run, client credentials refresh, and no secret is ever written."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from replay.simulator import SimulatorConfig, create_app, serve_in_thread
from tests.reliability.auth_servers import TOKEN_PATH, Gateway, TokenIssuer
from tests.reliability.support import SAMPLE, read_manifest, read_results, run_dir_of, run_replay, sample_world

CLIENT_ID = "replay-tests"
AUDIENCE = "https://api.example.test"
# requests that succeed before the gateway starts refusing
ALLOWED = 6
# without --rate, a run against an API URL is limited to 2 requests per second
UNLIMITED = ("--rate", "0")


@contextlib.contextmanager
def _gateway(decide: Callable[[str, int], tuple[int, str] | None]) -> Iterator[tuple[str, Gateway]]:
    config = SimulatorConfig(world=sample_world(), seed=3, latency_scale=0.01)
    gateway = Gateway(create_app(config), decide)
    with serve_in_thread(gateway) as base_url:
        yield base_url, gateway


@contextlib.contextmanager
def _token_endpoint(issuer: TokenIssuer) -> Iterator[str]:
    with serve_in_thread(issuer.app()) as base_url:
        yield base_url + TOKEN_PATH


def _refuse_after(status: int, message: str) -> Callable[[str, int], tuple[int, str] | None]:
    def decide(token: str, before: int) -> tuple[int, str] | None:
        return (status, message) if before >= ALLOWED else None

    return decide


def _credentials_args(token_url: str) -> tuple[str, ...]:
    return ("--token-url", token_url, "--client-id", CLIENT_ID, "--audience", AUDIENCE)


@pytest.mark.parametrize(("status", "message", "hint"), [
    (401, "Invalid or expired token", "WILDMOOSE_API_TOKEN"),
    (403, "Client ID not configured for organization", "not enabled for this organisation"),
])
def test_refusal_stops_run(tmp_path: Path, status: int, message: str, hint: str) -> None:
    with _gateway(_refuse_after(status, message)) as (base_url, gateway):
        done = run_replay("run", SAMPLE, "--api-url", base_url, "--concurrency", 1, *UNLIMITED, "--limit", 30,
                          "--out", tmp_path / "runs", cwd=tmp_path, env={"WILDMOOSE_API_TOKEN": "static-token"})

    assert done.returncode == 3, done.stderr
    assert hint in done.stdout
    assert hint in done.stderr
    assert "Traceback" not in done.stderr
    if status == 403:
        assert "WILDMOOSE_API_TOKEN" not in done.stdout
    # the run stopped at the first refusal: no request followed it
    assert len(gateway.requests) == ALLOWED + 1
    assert [request.status for request in gateway.refused()] == [status]

    run_dir = run_dir_of(done.stdout)
    manifest = read_manifest(run_dir)
    assert manifest["status"] == "aborted"
    assert hint in manifest["reason"]
    results = read_results(run_dir)
    assert (results["status"] == "ok").sum() == ALLOWED
    assert set(results["status"]) == {"ok", "cancelled"}
    assert "resume with:" in done.stdout


def test_credentials_refresh_before_expiry(tmp_path: Path) -> None:
    # the client refreshes a token 60 s before it expires, so a 61.5 s token is replaced after
    # about 1.5 s, and every request still carries a token with about a minute left
    issuer = TokenIssuer(CLIENT_ID, "secret-before-expiry", AUDIENCE, expires_in=61.5)
    with _token_endpoint(issuer) as token_url, _gateway(lambda token, _: issuer.check(token)) as (base_url, gateway):
        done = run_replay("run", SAMPLE, "--api-url", base_url, *_credentials_args(token_url), "--concurrency", 2,
                          "--rate", 8, "--limit", 40, "--out", tmp_path / "runs", cwd=tmp_path,
                          env={"WILDMOOSE_CLIENT_SECRET": issuer.client_secret})

    assert done.returncode == 0, done.stderr
    assert len(issuer.requests) >= 3, "the token was not refreshed during a run several seconds long"
    for form in issuer.requests:
        assert form == {"grant_type": "client_credentials", "client_id": CLIENT_ID,
                        "client_secret": issuer.client_secret, "audience": AUDIENCE}
    assert not gateway.refused()
    used = {request.token for request in gateway.requests}
    assert len(used) >= 3
    for request in gateway.requests:
        assert issuer.issued[request.token] - request.arrived > 55.0, "a token close to expiry was used"
    assert set(read_results(run_dir_of(done.stdout))["status"]) == {"ok"}


def test_credentials_retry_after_401(tmp_path: Path) -> None:
    issuer = TokenIssuer(CLIENT_ID, "secret-after-401", AUDIENCE)

    def decide(token: str, before: int) -> tuple[int, str] | None:
        # the API revokes the first token after a few requests, as when a key is rotated
        if before == ALLOWED:
            issuer.revoke(token)
        return issuer.check(token)

    with _token_endpoint(issuer) as token_url, _gateway(decide) as (base_url, gateway):
        done = run_replay("run", SAMPLE, "--api-url", base_url, *_credentials_args(token_url), "--concurrency", 4,
                          *UNLIMITED, "--limit", 30, "--out", tmp_path / "runs", cwd=tmp_path,
                          env={"WILDMOOSE_CLIENT_SECRET": issuer.client_secret})

    assert done.returncode == 0, done.stderr
    # requests refused together with the revoked token caused one refresh, not one each
    assert len(issuer.requests) == 2
    refused = gateway.refused()
    assert refused
    assert {request.token for request in refused} == {"access-1"}
    assert "fetched a new token" in done.stderr
    results = read_results(run_dir_of(done.stdout))
    assert len(results) == 30
    assert set(results["status"]) == {"ok"}
    assert (results["attempts"] == 2).sum() == len(refused)


def test_credentials_second_401_stops(tmp_path: Path) -> None:
    issuer = TokenIssuer(CLIENT_ID, "secret-second-401", AUDIENCE)
    with _token_endpoint(issuer) as token_url, _gateway(_refuse_after(401, "Invalid token")) as (base_url, gateway):
        done = run_replay("run", SAMPLE, "--api-url", base_url, *_credentials_args(token_url), "--concurrency", 1,
                          *UNLIMITED, "--limit", 20, "--out", tmp_path / "runs", cwd=tmp_path,
                          env={"WILDMOOSE_CLIENT_SECRET": issuer.client_secret})

    assert done.returncode == 3, done.stderr
    # one refresh after the first 401; the retry's 401 stops the run
    assert len(issuer.requests) == 2
    assert [request.token for request in gateway.refused()] == ["access-1", "access-2"]
    assert read_manifest(run_dir_of(done.stdout))["status"] == "aborted"


def test_token_endpoint_down_stops(tmp_path: Path) -> None:
    issuer = TokenIssuer(CLIENT_ID, "right-secret", AUDIENCE)
    with _token_endpoint(issuer) as token_url, _gateway(lambda token, _: issuer.check(token)) as (base_url, _):
        done = run_replay("run", SAMPLE, "--api-url", base_url, *_credentials_args(token_url), "--limit", 5,
                          "--out", tmp_path / "runs", cwd=tmp_path, env={"WILDMOOSE_CLIENT_SECRET": "wrong-secret"})

    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    assert "token endpoint" in done.stdout
    assert read_manifest(run_dir_of(done.stdout))["status"] == "aborted"


def test_secrets_never_written(tmp_path: Path) -> None:
    static_token = "wm-static-7f3c9e1d5b2a4f60-do-not-write"
    client_secret = "cs-5e8d2a7c41b9f036-do-not-write"
    issuer = TokenIssuer(CLIENT_ID, client_secret, AUDIENCE, token_prefix="at-3b1f9d0c7a52e846-do-not-write")

    exchanged_requests = []

    def decide(token: str, before: int) -> tuple[int, str] | None:
        if token == static_token:
            return None
        # revoke the first issued token so the 401, refresh and retry path runs too
        exchanged_requests.append(token)
        if len(exchanged_requests) == ALLOWED:
            issuer.revoke(token)
        return issuer.check(token)

    with _token_endpoint(issuer) as token_url, _gateway(decide) as (base_url, _):
        static = run_replay("--log-level", "DEBUG", "run", SAMPLE, "--api-url", base_url, "--limit", 10,
                            *UNLIMITED, "--label", "static", "--out", tmp_path / "runs", cwd=tmp_path,
                            env={"WILDMOOSE_API_TOKEN": static_token})
        exchanged = run_replay("--log-level", "DEBUG", "run", SAMPLE, "--api-url", base_url,
                               *_credentials_args(token_url), *UNLIMITED, "--limit", 20, "--label", "exchanged",
                               "--out", tmp_path / "runs", cwd=tmp_path,
                               env={"WILDMOOSE_CLIENT_SECRET": client_secret})

    assert static.returncode == 0, static.stderr
    assert exchanged.returncode == 0, exchanged.stderr
    assert len(issuer.requests) == 2
    secrets = [static_token, client_secret, *issuer.issued]
    outputs = {"static stdout": static.stdout, "static stderr": static.stderr,
               "exchanged stdout": exchanged.stdout, "exchanged stderr": exchanged.stderr}
    for name, text in outputs.items():
        for secret in secrets:
            assert secret not in text, f"{name} contains a secret"

    files = [path for folder in (tmp_path / "runs", tmp_path / "reports") for path in folder.rglob("*") if path.is_file()]
    assert len(files) >= 8
    for path in files:
        content = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in content, f"{path} contains a secret"
