"""LLM judge: a chat model grades the answer against the label with a rubric.

Talks to any OpenAI-compatible ``POST {base_url}/chat/completions`` endpoint with httpx.
The base URL, key and model come from the factory's arguments or from the environment
(``REPLAY_JUDGE_URL``, ``REPLAY_JUDGE_API_KEY``, ``REPLAY_JUDGE_MODEL``, and optionally
``REPLAY_JUDGE_RATE`` in calls per second, ``REPLAY_JUDGE_MAX_ERROR_RATE`` as a fraction and
``REPLAY_JUDGE_MAX_ATTEMPTS``). The key is sent only in the ``Authorization`` header and never
logged or stored.

Calls go through the same machinery as the playbook API calls: a ``RateLimiter`` spaces
their starts, and a ``RetryPolicy`` retries 408, 429 and 5xx responses, timeouts and
connection errors with exponential backoff, or after the server's ``Retry-After`` when it
sends one. A call that still fails after the last attempt, or whose ``Retry-After`` is
longer than the policy's ``max_retry_after``, gives an ``unscored`` row with the reason.

A reply that cannot be parsed is ``unscored``, never ``incorrect``. Replies are cached
by everything that changes a verdict: model, prompt version, rubric text, temperature,
label and extracted statement. When more than ``max_error_rate`` of the calls (after
``min_calls_for_rate``) fail or are unparseable, the judge raises ``RemoteCallError``; at
the end of a scoring pass ``finish`` checks the same rate over however few calls were made,
so a pass over a handful of executions that all failed fails too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from replay.errors import ConfigError, RemoteCallError
from replay.limits import RateLimiter
from replay.models import Label, Score, Verdict
from replay.retries import RETRYABLE_STATUS_CODES, RetryPolicy, parse_retry_after
from replay.scoring.base import no_answer_score
from replay.scoring.extract import extract_root_cause

__all__ = ["DEFAULT_RUBRIC", "LLMJudge", "PROMPT_VERSION", "llm_judge"]

logger = logging.getLogger(__name__)

URL_ENV = "REPLAY_JUDGE_URL"
KEY_ENV = "REPLAY_JUDGE_API_KEY"
MODEL_ENV = "REPLAY_JUDGE_MODEL"
RATE_ENV = "REPLAY_JUDGE_RATE"
MAX_ERROR_RATE_ENV = "REPLAY_JUDGE_MAX_ERROR_RATE"
MAX_ATTEMPTS_ENV = "REPLAY_JUDGE_MAX_ATTEMPTS"
DEFAULT_RATE_PER_S = 2.0
DEFAULT_MAX_ERROR_RATE = 0.2
PROMPT_VERSION = "rca-judge-1"
# module-level, so tests can stand the clock still without touching the time module
_clock = time.monotonic
_sleep = time.sleep
# a judge call is cheap to repeat, and a scoring pass should not stall for long on one execution
DEFAULT_RETRY_POLICY = RetryPolicy(max_attempts=4, initial_wait=1.0, max_wait=20.0, deadline=300.0,
                                   max_retry_after=120.0)

DEFAULT_RUBRIC = """You grade the root cause named by an automated incident investigation.

Labeled root cause: {root_cause}
Failing component: {component}
Failure mechanism: {category}

Root cause named by the investigation: {statement}

Rubric:
- correct: names the same mechanism on the same component (wording may differ).
- partial: the right mechanism on a missing or wrong component, the right component with
  a wrong or vague mechanism, or the right cause only as a secondary hypothesis.
- incorrect: a different cause, several causes with no commitment, or no cause.

Reply with JSON only: {{"verdict": "correct|partial|incorrect", "explanation": "one sentence"}}"""

_VALUES: dict[str, float] = {"correct": 1.0, "partial": 0.5, "incorrect": 0.0}
_VERDICT_WORD = re.compile(r"\bverdict\W{0,5}(correct|partial|incorrect)\b", re.IGNORECASE)


class _CallFailed(Exception):
    """A judge call that failed for good: the last error and the attempts spent."""

    def __init__(self, reason: str, attempts: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts


class LLMJudge:
    """Scorer that asks a chat model for a verdict; see the module docstring."""

    name = "llm_judge"
    version = "1"

    def __init__(self, *, base_url: str, api_key: str | None, model: str, rubric: str,
                 prompt_version: str, temperature: float, timeout_s: float, min_interval_s: float,
                 max_error_rate: float, min_calls_for_rate: int, cache_path: Path | None,
                 preflight: bool, retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.rubric = rubric
        self.prompt_version = prompt_version
        self.temperature = temperature
        self.max_error_rate = max_error_rate
        self.min_calls_for_rate = min_calls_for_rate
        self.min_interval_s = min_interval_s
        self.retry_policy = retry_policy
        self.limiter = RateLimiter(1.0 / min_interval_s if min_interval_s > 0 else None)
        self.cache_path = cache_path
        self.calls = 0
        self.failures = 0
        self._lock = threading.Lock()
        self._cache: dict[str, dict[str, Any]] = {}
        self._is_checked = not preflight
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=timeout_s, transport=transport)
        self._rubric_hash = hashlib.sha256(rubric.encode()).hexdigest()[:16]
        if cache_path is not None and cache_path.exists():
            self._load_cache(cache_path)

    def __repr__(self) -> str:
        return f"LLMJudge(base_url={self.base_url!r}, model={self.model!r}, api_key=***)"

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def preflight(self) -> None:
        """Send one tiny request so that a wrong URL, key or model fails before scoring.

        Raises:
            ConfigError: When the endpoint does not answer with a chat completion.
        """
        try:
            self._chat("Reply with the word ok.")
        except _CallFailed as exc:
            raise ConfigError(f"LLM judge preflight to {self.base_url}/chat/completions with model "
                              f"{self.model!r} failed after {exc.attempts} attempt(s): {exc.reason}; "
                              f"check {URL_ENV}, {KEY_ENV} and {MODEL_ENV}") from None
        self._is_checked = True

    def __call__(self, label: Label, highlights: str) -> Score:
        """Score ``highlights`` against ``label``."""
        return self.grade(label, highlights)

    def grade(self, label: Label, highlights: str, *, use_cache: bool = True) -> Score:
        """Score ``highlights`` against ``label``.

        Args:
            label: The labeled root cause.
            highlights: The playbook's answer.
            use_cache: With False, the model is called even when a verdict is cached, and
                its verdict is not stored, so repeated grading measures the judge itself.
        """
        extraction = extract_root_cause(highlights)
        empty = no_answer_score(extraction)
        if empty is not None:
            return empty
        if not self._is_checked:
            self.preflight()

        prompt = self.rubric.format(root_cause=label.root_cause or "(none)",
                                    component=label.component or "(not given)",
                                    category=label.category or "(not given)",
                                    statement=extraction.statement)
        key = self._cache_key(prompt)
        evidence: dict[str, Any] = {"judge_model": self.model, "prompt_version": self.prompt_version,
                                    "rubric_sha256": self._rubric_hash, "cache_key": key}
        cached = self._cache.get(key) if use_cache else None
        if cached is not None:
            return self._to_score(cached, extraction.statement, {**evidence, "cached": True})

        self.calls += 1
        try:
            reply, attempts = self._chat(prompt)
        except _CallFailed as exc:
            self._count_failure()
            logger.warning("LLM judge call failed after %d attempt(s): %s", exc.attempts, exc.reason)
            return Score(None, "unscored", f"judge call failed after {exc.attempts} attempt(s): {exc.reason}",
                         extracted=extraction.statement, evidence={**evidence, "attempts": exc.attempts})
        evidence["attempts"] = attempts
        parsed = _parse_verdict(reply)
        if parsed is None:
            self._count_failure()
            return Score(None, "unscored", "judge reply unparseable", extracted=extraction.statement,
                         evidence={**evidence, "reply": reply[:500]})
        if use_cache:
            self._store(key, parsed)
        return self._to_score(parsed, extraction.statement, {**evidence, "cached": False})

    def _to_score(self, parsed: dict[str, Any], statement: str, evidence: dict[str, Any]) -> Score:
        verdict: Verdict = parsed["verdict"]
        return Score(_VALUES[verdict], verdict, parsed.get("explanation") or f"judge verdict {verdict}",
                     extracted=statement, evidence=evidence)

    def _cache_key(self, prompt: str) -> str:
        material = json.dumps([self.model, self.prompt_version, self.temperature, prompt])
        return hashlib.sha256(material.encode()).hexdigest()

    def _chat(self, prompt: str) -> tuple[str, int]:
        """Send one prompt with rate limiting and retries; return the reply and attempts used.

        Raises:
            _CallFailed: When every attempt failed, the deadline passed, or the server asked
                for a wait longer than the policy's ``max_retry_after``.
        """
        policy = self.retry_policy
        started = _clock()
        attempt = 0
        while True:
            attempt += 1
            self._wait_for_slot()
            try:
                return self._post(prompt), attempt
            except (httpx.HTTPStatusError, httpx.TimeoutException, httpx.TransportError) as exc:
                reason, retryable, retry_after = _classify(exc)
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                # a 200 whose body is not a chat completion does not improve by asking again
                raise _CallFailed(f"reply is not a chat completion ({type(exc).__name__}: {exc})",
                                  attempt) from None
            if not retryable or attempt >= policy.max_attempts:
                raise _CallFailed(reason, attempt)
            if retry_after is not None and retry_after > policy.max_retry_after:
                raise _CallFailed(f"{reason} with Retry-After {retry_after:.0f} s, longer than the "
                                  f"{policy.max_retry_after:.0f} s the judge waits", attempt)
            wait = retry_after if retry_after is not None else policy.backoff(attempt)
            if _clock() - started + wait > policy.deadline:
                raise _CallFailed(f"{reason}; no time left for another attempt within "
                                  f"{policy.deadline:.0f} s", attempt)
            if retry_after is not None:
                # every call waits out the server's pause, not only this one
                with self._lock:
                    self.limiter.pause(retry_after)
            logger.info("LLM judge call attempt %d failed (%s); retrying in %.2f s", attempt, reason, wait)
            _sleep(wait)

    def _wait_for_slot(self) -> None:
        with self._lock:
            now = _clock()
            slot = self.limiter.reserve(now)
        if slot > now:
            _sleep(slot - now)

    def _post(self, prompt: str) -> str:
        response = self._client.post(f"{self.base_url}/chat/completions", json={
            "model": self.model, "temperature": self.temperature,
            "messages": [{"role": "user", "content": prompt}],
        })
        response.raise_for_status()
        content = response.json()["choices"][0]["message"]["content"]
        if not isinstance(content, str):
            raise TypeError(f"message content is {type(content).__name__}, expected a string")
        return content

    def finish(self) -> None:
        """End a scoring pass: check its error rate, then start counting afresh.

        Raises:
            RemoteCallError: When more than ``max_error_rate`` of the pass's calls failed,
                however few calls there were.
        """
        calls, failures = self.calls, self.failures
        self.calls = self.failures = 0
        if calls and failures / calls > self.max_error_rate:
            raise RemoteCallError(self._error_rate_message(failures, calls))

    def _count_failure(self) -> None:
        self.failures += 1
        if self.calls >= self.min_calls_for_rate and self.failures / self.calls > self.max_error_rate:
            raise RemoteCallError(self._error_rate_message(self.failures, self.calls))

    def _error_rate_message(self, failures: int, calls: int) -> str:
        return (f"LLM judge failed {failures} of {calls} calls, above the maximum error rate "
                f"{self.max_error_rate:.0%}, so scoring stopped and no judge scores were written; check "
                f"the endpoint {self.base_url} and model {self.model!r} ({URL_ENV}, {MODEL_ENV}), or raise "
                f"{MAX_ERROR_RATE_ENV}")

    def _store(self, key: str, parsed: dict[str, Any]) -> None:
        self._cache[key] = parsed
        if self.cache_path is not None:
            with self._lock, self.cache_path.open("a", encoding="utf-8") as file:
                file.write(json.dumps({"key": key, **parsed}) + "\n")

    def _load_cache(self, path: Path) -> None:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                entry = json.loads(line)
                self._cache[entry.pop("key")] = entry
            except (ValueError, KeyError, AttributeError):
                logger.warning("skipping unreadable line %d of judge cache %s", number, path)


def _parse_verdict(reply: str) -> dict[str, Any] | None:
    """Read the verdict from a JSON object in the reply, else from "verdict: X" text."""
    start, end = reply.find("{"), reply.rfind("}")
    if 0 <= start < end:
        try:
            obj = json.loads(reply[start : end + 1])
        except ValueError:
            obj = None
        if isinstance(obj, dict) and str(obj.get("verdict", "")).strip().lower() in _VALUES:
            explanation = obj.get("explanation")
            return {"verdict": str(obj["verdict"]).strip().lower(),
                    "explanation": explanation if isinstance(explanation, str) else ""}
    match = _VERDICT_WORD.search(reply)
    if match:
        return {"verdict": match.group(1).lower(), "explanation": ""}
    return None


def _env_number(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not a number; set it to a number such as {default}") from None


def _classify(exc: httpx.HTTPError) -> tuple[str, bool, float | None]:
    """Return the reason text, whether a retry may help, and the server's Retry-After."""
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        retry_after = parse_retry_after(exc.response.headers.get("retry-after"))
        return f"HTTP {status}", status in RETRYABLE_STATUS_CODES, retry_after
    if isinstance(exc, httpx.TimeoutException):
        return f"timeout ({type(exc).__name__})", True, None
    return f"connection error ({type(exc).__name__}: {exc})", True, None


def llm_judge(*, base_url: str | None = None, api_key: str | None = None, model: str | None = None,
              rubric: str = DEFAULT_RUBRIC, prompt_version: str = PROMPT_VERSION,
              temperature: float = 0.0, timeout_s: float = 60.0, rate_per_s: float | None = None,
              max_error_rate: float | None = None, min_calls_for_rate: int = 10,
              cache_path: str | Path | None = None, preflight: bool = True,
              retry_policy: RetryPolicy | None = None, max_attempts: int | None = None,
              transport: httpx.BaseTransport | None = None) -> LLMJudge:
    """Build an LLM-judge scorer.

    Args:
        base_url: Endpoint root, such as ``http://127.0.0.1:8000/v1``; default
            ``$REPLAY_JUDGE_URL``.
        api_key: Bearer key; default ``$REPLAY_JUDGE_API_KEY`` (may be unset for local
            servers).
        model: Judge model name; default ``$REPLAY_JUDGE_MODEL``.
        rubric: Prompt template with ``{root_cause}``, ``{component}``, ``{category}``
            and ``{statement}`` fields.
        prompt_version: Stored with every score and part of the cache key.
        temperature: Sampling temperature sent to the model.
        timeout_s: Timeout of one call, in seconds.
        rate_per_s: Maximum calls per second; default ``$REPLAY_JUDGE_RATE``, else 2.
        max_error_rate: Fraction of failed or unparseable calls that aborts scoring;
            default ``$REPLAY_JUDGE_MAX_ERROR_RATE``, else 0.2.
        min_calls_for_rate: Calls made before the error rate is checked.
        cache_path: JSON-lines file that keeps verdicts across runs.
        preflight: Check the endpoint with one call before the first real one.
        retry_policy: Retries of one call; default 4 attempts, backoff from 1 s, honouring
            a Retry-After of up to 120 s.
        max_attempts: Overrides the policy's attempts; default ``$REPLAY_JUDGE_MAX_ATTEMPTS``.
        transport: httpx transport, for tests.

    Returns:
        A configured ``LLMJudge``.

    Raises:
        ConfigError: When the URL or model is missing, or a number is out of range.
    """
    rate_per_s = rate_per_s if rate_per_s is not None else _env_number(RATE_ENV, DEFAULT_RATE_PER_S)
    if max_error_rate is None:
        max_error_rate = _env_number(MAX_ERROR_RATE_ENV, DEFAULT_MAX_ERROR_RATE)
    base_url = base_url or os.environ.get(URL_ENV)
    model = model or os.environ.get(MODEL_ENV)
    api_key = api_key if api_key is not None else os.environ.get(KEY_ENV)
    policy = retry_policy or DEFAULT_RETRY_POLICY
    if max_attempts is None and os.environ.get(MAX_ATTEMPTS_ENV, "").strip():
        max_attempts = int(_env_number(MAX_ATTEMPTS_ENV, policy.max_attempts))
    if max_attempts is not None:
        if max_attempts < 1:
            raise ConfigError(f"judge max_attempts must be at least 1, got {max_attempts!r} "
                              f"(argument max_attempts or {MAX_ATTEMPTS_ENV})")
        policy = replace(policy, max_attempts=max_attempts)
    if not base_url:
        raise ConfigError(f"the LLM judge needs an endpoint: set {URL_ENV} (for example http://127.0.0.1:8000/v1)")
    if not model:
        raise ConfigError(f"the LLM judge needs a model name: set {MODEL_ENV}")
    if rate_per_s <= 0:
        raise ConfigError(f"judge rate must be positive, got {rate_per_s!r} (argument rate_per_s or {RATE_ENV})")
    if not 0 <= max_error_rate <= 1:
        raise ConfigError(f"judge max_error_rate must be in [0, 1], got {max_error_rate!r} "
                          f"(argument max_error_rate or {MAX_ERROR_RATE_ENV})")
    for field in ("{root_cause}", "{statement}"):
        if field not in rubric:
            raise ConfigError(f"judge rubric must contain the field {field}")
    return LLMJudge(base_url=base_url, api_key=api_key, model=model, rubric=rubric,
                    prompt_version=prompt_version, temperature=temperature, timeout_s=timeout_s,
                    min_interval_s=1.0 / rate_per_s, max_error_rate=max_error_rate,
                    min_calls_for_rate=min_calls_for_rate,
                    cache_path=Path(cache_path) if cache_path else None, preflight=preflight,
                    retry_policy=policy, transport=transport)
