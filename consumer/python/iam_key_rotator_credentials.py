"""Credentials for boto3/botocore that follow the key rotations done by iam-key-rotator.

Reads the AWSCURRENT version of the user's secret (``iam-key-rotator/<user name>``), caches the key
for a TTL spread by jitter, re-reads it when AWS refuses the cached key (and retries that request
once), re-reads a refused key at most once per minimum interval, and backs off exponentially when
the secret cannot be read. The same behaviour as consumer/rotating-credentials.ts for Node.

One file, nothing beyond boto3/botocore: copy it into your service.

    from iam_key_rotator_credentials import rotating_session
    session = rotating_session("iam-key-rotator/billing-export")
    s3 = session.client("s3")  # every client made from this session follows rotations

The secret is never logged, and no error message quotes it.
"""

from __future__ import annotations

import datetime as _dt
import json
import random as _random
import re
import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional

import boto3
import botocore.session
from botocore.credentials import DeferredRefreshableCredentials

__all__ = [
    "CachePolicy",
    "CacheState",
    "RotatingSecretCredentials",
    "RotatingSecretUnavailableError",
    "rotating_session",
    "next_step",
    "after_read",
    "after_failure",
    "after_refusal",
]

# Errors AWS answers a request signed with a deleted, Inactive or unknown key with.
STALE_KEY_ERRORS = frozenset(
    ["InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AuthFailure"]
)

# botocore refreshes credentials this long before their expiry (advisory; failures keep the old key)
# and must refresh them 10 minutes before it. Reporting "fresh until + 15 minutes" as the expiry makes
# botocore ask for a refresh exactly when the TTL runs out, and keep the key it has if a read fails.
_BOTOCORE_ADVISORY_S = 15 * 60


class RotatingSecretUnavailableError(Exception):
    """The secret could not be read and no key AWS still accepts is cached.

    ``__cause__`` is the read's own error. Until ``retry_at`` (epoch seconds) it is raised again
    without a read, so a failing Secrets Manager is not hammered by every request.
    """

    def __init__(self, secret_id: str, failures: int, retry_at: float, cause: Optional[BaseException]):
        reason = f"{type(cause).__name__}: {cause}" if cause is not None else "no key cached"
        retry = _dt.datetime.fromtimestamp(retry_at, _dt.timezone.utc).isoformat()
        super().__init__(
            f"Could not read the access key from secret {secret_id} ({failures} failed read"
            f"{'' if failures == 1 else 's'} in a row; next read at {retry}): {reason}. Check that this "
            "service may call secretsmanager:GetSecretValue on the secret (and kms:Decrypt on its key) "
            "and that the secret exists in this region."
        )
        self.secret_id = secret_id
        self.failures = failures
        self.retry_at = retry_at


class InvalidSecretError(ValueError):
    """The secret's AWSCURRENT value is not the JSON the rotator writes."""


@dataclass(frozen=True)
class StoredKey:
    access_key_id: str
    secret_access_key: str

    def __repr__(self) -> str:  # never print the secret half
        return f"StoredKey({self.access_key_id!r}, <secret>)"


@dataclass(frozen=True)
class CachePolicy:
    """All times in seconds."""

    ttl: float = 300.0
    ttl_jitter: float = 0.1
    min_read_interval: float = 1.0
    error_backoff: float = 1.0
    max_error_backoff: float = 60.0


@dataclass(frozen=True)
class CacheState:
    key: Optional[StoredKey] = None
    fresh_until: float = 0.0
    refused: bool = False
    last_read_at: float = float("-inf")
    failures: int = 0
    last_error: Optional[BaseException] = None
    retry_at: float = 0.0


# ---- the decisions (pure; the same as consumer/rotating-credentials.ts) -----------------------------


def next_step(state: CacheState, policy: CachePolicy, now: float) -> tuple:
    """('use', key) | ('read',) | ('wait', until) | ('fail',)."""
    key = state.key
    backing_off = state.failures > 0 and now < state.retry_at
    if key is not None and not state.refused and now < state.fresh_until:
        return ("use", key)
    if backing_off:
        if key is not None and not state.refused:
            return ("use", key)
        # A read failed moments ago: wait out a backoff no longer than the minimum re-read interval, then read once more.
        return ("wait", state.retry_at) if state.retry_at - now <= policy.min_read_interval else ("fail",)
    if key is not None and state.refused and now - state.last_read_at < policy.min_read_interval:
        return ("wait", state.last_read_at + policy.min_read_interval)
    return ("read",)


def after_read(key: StoredKey, policy: CachePolicy, started_at: float, random: float) -> CacheState:
    spread = policy.ttl * policy.ttl_jitter * (2 * random - 1)
    return CacheState(key=key, fresh_until=started_at + policy.ttl + spread, last_read_at=started_at)


def after_failure(state: CacheState, policy: CachePolicy, started_at: float, error: BaseException, random: float) -> CacheState:
    failures = state.failures + 1
    base = min(policy.max_error_backoff, policy.error_backoff * 2 ** (failures - 1))
    wait = base * (1 + policy.ttl_jitter * (2 * random - 1))
    return replace(state, last_read_at=started_at, failures=failures, last_error=error, retry_at=started_at + wait)


def after_refusal(state: CacheState, access_key_id: Optional[str] = None) -> CacheState:
    if state.key is None or (access_key_id is not None and state.key.access_key_id != access_key_id):
        return state
    return replace(state, refused=True)


# ---- the provider -------------------------------------------------------------------------------------


class RotatingSecretCredentials:
    """The key of a secret, cached and re-read by the rules above. Thread-safe: one read at a time."""

    def __init__(
        self,
        secret_id: str,
        *,
        client: Any = None,
        reader_session: Optional[boto3.Session] = None,
        policy: CachePolicy = CachePolicy(),
        clock: Callable[[], float] = time.time,
        random: Callable[[], float] = _random.random,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not 0 <= policy.ttl_jitter < 1:
            raise ValueError(f"ttl_jitter must be in [0, 1); got {policy.ttl_jitter}")
        self.secret_id = secret_id
        self.policy = policy
        self._client = client if client is not None else (reader_session or boto3.Session()).client("secretsmanager")
        self._clock = clock
        self._random = random
        self._sleep = sleep
        self._state = CacheState()
        self._lock = threading.Lock()
        self.reads = 0

    def _read(self) -> StoredKey:
        self.reads += 1
        response = self._client.get_secret_value(SecretId=self.secret_id, VersionStage="AWSCURRENT")
        try:
            parsed = json.loads(response.get("SecretString") or "")
        except ValueError:
            # No cause: the decoder's message can quote the text, which is the secret.
            raise InvalidSecretError(
                f'Secret {self.secret_id} does not hold JSON; expected {{"AccessKeyId": ..., "SecretAccessKey": ...}}'
            ) from None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("AccessKeyId"), str) or not isinstance(parsed.get("SecretAccessKey"), str):
            raise InvalidSecretError(f"Secret {self.secret_id} has no AccessKeyId and SecretAccessKey fields")
        return StoredKey(parsed["AccessKeyId"], parsed["SecretAccessKey"])

    def _refresh(self, seen_read_at: float) -> None:
        with self._lock:
            # Another thread read it while this one waited for the lock: its result serves this one.
            if self._state.last_read_at > seen_read_at:
                return
            started_at = self._clock()
            try:
                self._state = after_read(self._read(), self.policy, started_at, self._random())
            except Exception as error:  # noqa: BLE001 - every read error is cached and backed off
                self._state = after_failure(self._state, self.policy, started_at, error, self._random())

    def key(self) -> StoredKey:
        """The key to sign with now; raises RotatingSecretUnavailableError when there is none."""
        state = self._state
        step = next_step(state, self.policy, self._clock())
        if step[0] == "wait":
            self._sleep(max(0.0, step[1] - self._clock()))
            step = next_step(self._state, self.policy, self._clock())
            if step[0] == "wait":  # the interval has passed, whatever a coarse clock says
                step = ("read",)
        if step[0] == "read":
            self._refresh(state.last_read_at)
            step = next_step(self._state, self.policy, self._clock())
            # A read slower than the TTL leaves a key already due again: it is fresh for the request that waited for it.
            current = self._state
            if step[0] == "read" and current.key is not None and not current.refused and current.failures == 0:
                step = ("use", current.key)
        if step[0] != "use":
            current = self._state
            raise RotatingSecretUnavailableError(self.secret_id, current.failures, current.retry_at, current.last_error) from current.last_error
        return step[1]

    def invalidate(self, access_key_id: Optional[str] = None) -> None:
        """AWS refused `access_key_id` (any cached key when None): the next request reads the secret again."""
        with self._lock:
            self._state = after_refusal(self._state, access_key_id)

    def fresh_until(self) -> float:
        state = self._state
        return state.retry_at if state.failures > 0 else state.fresh_until

    def botocore_metadata(self) -> dict:
        """What botocore's RefreshableCredentials asks `refresh_using` for."""
        key = self.key()
        expiry = max(self._clock() + 1, self.fresh_until()) + _BOTOCORE_ADVISORY_S
        return {
            "access_key": key.access_key_id,
            "secret_key": key.secret_access_key,
            "token": None,
            "expiry_time": _dt.datetime.fromtimestamp(expiry, _dt.timezone.utc).isoformat(),
        }


_KEY_IN_AUTHORIZATION = re.compile(r"Credential=([A-Z0-9]+)/")
_CONTEXT_KEY = "iam_key_rotator_signed_with"


def attach(events: Any, provider: RotatingSecretCredentials, credentials: DeferredRefreshableCredentials) -> None:
    """Makes every client of `events` (a botocore session's or a client's) retry a request once with a
    freshly read key when AWS refuses the one it was signed with."""

    def remember_key(request: Any, **_: Any) -> None:
        match = _KEY_IN_AUTHORIZATION.search(str(request.headers.get("Authorization", "")))
        context = getattr(request, "context", None)
        if match and isinstance(context, dict):
            context[_CONTEXT_KEY] = match.group(1)

    def retry_refused(response: Any = None, request_dict: Any = None, attempts: int = 1, **_: Any) -> Optional[float]:
        if response is None or not isinstance(request_dict, dict):
            return None
        code = (response[1].get("Error") or {}).get("Code")
        context = request_dict.get("context") or {}
        if code not in STALE_KEY_ERRORS or context.get("iam_key_rotator_retried"):
            return None
        context["iam_key_rotator_retried"] = True
        provider.invalidate(context.get(_CONTEXT_KEY))
        # botocore keeps the key until its expiry: mark it expired so the retry's signing refreshes it.
        credentials._expiry_time = _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(seconds=1)  # noqa: SLF001
        return 0.0

    # Last, so the client's signer (a request-created handler too) has signed the request already.
    events.register_last("request-created", remember_key, unique_id="iam-key-rotator-remember-key")
    # First, so the standard retry handler does not answer for a refused key.
    events.register_first("needs-retry", retry_refused, unique_id="iam-key-rotator-retry-refused")


def rotating_session(
    secret_id: str,
    *,
    region_name: Optional[str] = None,
    reader_session: Optional[boto3.Session] = None,
    policy: CachePolicy = CachePolicy(),
    provider: Optional[RotatingSecretCredentials] = None,
) -> boto3.Session:
    """A boto3 Session whose clients sign with the secret's current key and follow its rotations.

    `reader_session` reads the secret (default: boto3's default credential chain, e.g. the instance
    role); the returned session's own region is `region_name` or the reader's.
    """
    reader = reader_session or boto3.Session(region_name=region_name)
    provider = provider or RotatingSecretCredentials(secret_id, reader_session=reader, policy=policy)
    core = botocore.session.Session()
    credentials = DeferredRefreshableCredentials(refresh_using=provider.botocore_metadata, method="iam-key-rotator-secret")
    # boto3 has no public setter for a session's refreshable credentials; this attribute is what botocore reads.
    core._credentials = credentials  # noqa: SLF001
    attach(core.get_component("event_emitter"), provider, credentials)
    session = boto3.Session(botocore_session=core, region_name=region_name or reader.region_name)
    session.iam_key_rotator_provider = provider  # type: ignore[attr-defined]
    return session
