"""Tests of iam_key_rotator_credentials: the decisions with a fake clock, and the session against moto.

Run against a moto_server (AWS_ENDPOINT_URL); `npm test` runs them through
test/integration/consumer/python-helper.test.ts, which gives them the suite's moto:

    AWS_ENDPOINT_URL=http://127.0.0.1:5000 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
    AWS_DEFAULT_REGION=us-east-1 python3 -m unittest discover -s consumer/python -v
"""

from __future__ import annotations

import json
import os
import threading
import unittest
import urllib.request
import uuid

import boto3
from botocore.exceptions import ClientError

from iam_key_rotator_credentials import (
    CachePolicy,
    CacheState,
    RotatingSecretCredentials,
    RotatingSecretUnavailableError,
    StoredKey,
    after_failure,
    after_read,
    next_step,
    rotating_session,
)

POLICY = CachePolicy(ttl=10, ttl_jitter=0.1, min_read_interval=1, error_backoff=1, max_error_backoff=8)


class FakeSecrets:
    """A Secrets Manager client that answers from a list: a value (SecretString) or an exception."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def get_secret_value(self, **kwargs):
        self.calls.append(kwargs)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return {"SecretString": answer}


def key_json(key_id):
    return json.dumps({"AccessKeyId": key_id, "SecretAccessKey": f"secret-of-{key_id}"})


class Clock:
    def __init__(self):
        self.now = 1_024.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def provider_with(client, clock, **policy):
    return RotatingSecretCredentials(
        "iam-key-rotator/app", client=client, policy=CachePolicy(**{"ttl": 10, **policy}), clock=clock, random=lambda: 0.5, sleep=clock.sleep
    )


class Decisions(unittest.TestCase):
    def test_next_step_table(self):
        key = StoredKey("AKIAONE", "secret")
        read = after_read(key, POLICY, 0, 0.5)
        failed_once = after_failure(CacheState(), POLICY, 0, RuntimeError("denied"), 0.5)
        cases = [
            ("nothing cached", CacheState(), 0, "read"),
            ("fresh key", read, 9.999, "use"),
            ("TTL over", read, 10, "read"),
            ("refused, inside the minimum interval", CacheState(key, 10, True, 0), 0.999, "wait"),
            ("refused, after the minimum interval", CacheState(key, 10, True, 0), 1, "read"),
            ("no key, backing off, ending within the minimum interval", failed_once, 0.999, "wait"),
            (
                "no key, backing off for longer than the minimum interval",
                after_failure(after_failure(failed_once, POLICY, 1, RuntimeError("x"), 0.5), POLICY, 3, RuntimeError("x"), 0.5),
                3.5,
                "fail",
            ),
            ("no key, backoff over", failed_once, 1, "read"),
            ("stale key, backing off", after_failure(CacheState(key, 0, False, 0), POLICY, 0, RuntimeError("x"), 0.5), 0.5, "use"),
            ("refused key, backing off, ending within the minimum interval", after_failure(CacheState(key, 10, True, 0), POLICY, 1, RuntimeError("x"), 0.5), 1.5, "wait"),
        ]
        for name, state, now, expected in cases:
            with self.subTest(name):
                self.assertEqual(next_step(state, POLICY, now)[0], expected)

    def test_ttl_is_spread_by_the_jitter(self):
        low = after_read(StoredKey("A", "s"), POLICY, 0, 0.0)
        high = after_read(StoredKey("A", "s"), POLICY, 0, 0.999999)
        self.assertAlmostEqual(low.fresh_until, 9.0)
        self.assertAlmostEqual(high.fresh_until, 11.0, places=3)

    def test_a_read_slower_than_the_ttl_still_serves_the_request_that_waited_for_it(self):
        # Prepare: each read takes 15 s of the clock, longer than the 10 s TTL.
        clock = Clock()

        class SlowSecrets(FakeSecrets):
            def get_secret_value(self, **kwargs):
                clock.now += 15
                return super().get_secret_value(**kwargs)

        provider = provider_with(SlowSecrets(key_json("AKIASLOW")), clock, ttl_jitter=0)

        # Act
        key = provider.key()

        # Assess
        self.assertEqual(key.access_key_id, "AKIASLOW")
        self.assertEqual(provider.reads, 1)

    def test_backoff_doubles_to_its_cap_and_the_error_is_raised_meanwhile_with_its_cause(self):
        clock = Clock()
        denied = RuntimeError("AccessDeniedException")
        provider = provider_with(FakeSecrets(denied), clock, ttl_jitter=0, error_backoff=1, max_error_backoff=4)
        waits, last = [], clock.now
        with self.assertRaises(RotatingSecretUnavailableError) as first:
            provider.key()
        self.assertIs(first.exception.__cause__, denied)
        self.assertIn("secretsmanager:GetSecretValue", str(first.exception))
        while len(waits) < 4:
            clock.now += 0.125  # exact in binary, so the sums land on the backoff's edges
            before = provider.reads
            with self.assertRaises(RotatingSecretUnavailableError):
                provider.key()
            if provider.reads > before:
                waits.append(round(clock.now - last, 1))
                last = clock.now
        self.assertEqual(waits, [1.0, 2.0, 4.0, 4.0])

    def test_a_stale_key_is_used_while_reads_fail_and_replaced_once_they_work(self):
        clock = Clock()
        throttled = RuntimeError("ThrottlingException")
        provider = provider_with(FakeSecrets(key_json("AKIAOLD"), throttled, key_json("AKIANEW")), clock, ttl_jitter=0)
        self.assertEqual(provider.key().access_key_id, "AKIAOLD")
        clock.now += 10
        self.assertEqual(provider.key().access_key_id, "AKIAOLD")
        self.assertEqual(provider.key().access_key_id, "AKIAOLD")
        self.assertEqual(provider.reads, 2)
        clock.now += 1
        self.assertEqual(provider.key().access_key_id, "AKIANEW")

    def test_a_key_refused_within_the_minimum_interval_waits_for_its_end_then_one_read(self):
        clock = Clock()
        provider = provider_with(FakeSecrets(key_json("AKIAOLD"), key_json("AKIANEW")), clock)
        provider.key()
        clock.now += 0.4
        for _ in range(20):
            provider.invalidate("AKIAOLD")
        self.assertEqual(provider.key().access_key_id, "AKIANEW")
        self.assertAlmostEqual(clock.now, 1_025.0)
        self.assertEqual(provider.reads, 2)

    def test_a_secret_that_is_not_json_fails_without_quoting_it(self):
        provider = provider_with(FakeSecrets("AKIAPLAIN:wJalrXUtnFEMI/K7MDENG"), Clock())
        with self.assertRaises(RotatingSecretUnavailableError) as raised:
            provider.key()
        self.assertIn("does not hold JSON", str(raised.exception))
        self.assertNotIn("wJalrXUtnFEMI", f"{raised.exception} {raised.exception.__cause__!r}")


SHARED_TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "consumer-decisions.json")


class SharedTable(unittest.TestCase):
    """The decisions of test/fixtures/consumer-decisions.json, which the Node provider and the
    credential_process script are tested against too (in ms there, in seconds here)."""

    @classmethod
    def setUpClass(cls):
        with open(SHARED_TABLE, encoding="utf-8") as table:
            cls.table = json.load(table)
        p = cls.table["policy"]
        cls.policy = CachePolicy(
            ttl=p["ttlMs"] / 1000,
            ttl_jitter=p["ttlJitter"],
            min_read_interval=p["minReadIntervalMs"] / 1000,
            error_backoff=p["errorBackoffMs"] / 1000,
            max_error_backoff=p["maxErrorBackoffMs"] / 1000,
        )

    def test_next_step(self):
        for row in self.table["nextStep"]:
            s = row["state"]
            state = CacheState(
                key=StoredKey("AKIAEXAMPLE", "example") if s["key"] else None,
                fresh_until=s["freshUntil"] / 1000,
                refused=s["refused"],
                last_read_at=float("-inf") if s["lastReadAt"] is None else s["lastReadAt"] / 1000,
                failures=s["failures"],
                retry_at=s["retryAt"] / 1000,
            )
            with self.subTest(row["name"]):
                self.assertEqual(next_step(state, self.policy, row["now"] / 1000)[0], row["expected"])

    def test_backoff(self):
        for row in self.table["backoff"]:
            with self.subTest(row["name"]):
                after = after_failure(CacheState(failures=row["failuresBefore"]), self.policy, 0, RuntimeError("x"), row["random"])
                self.assertAlmostEqual(after.retry_at, row["expectedWait"] / 1000)

    def test_ttl(self):
        for row in self.table["ttl"]:
            with self.subTest(row["name"]):
                self.assertAlmostEqual(after_read(StoredKey("A", "s"), self.policy, 0, row["random"]).fresh_until, row["expectedFreshFor"] / 1000)


def endpoint():
    url = os.environ.get("AWS_ENDPOINT_URL")
    if not url:
        raise RuntimeError("AWS_ENDPOINT_URL is not set: point it at a moto_server (see this file's docstring).")
    return url


def enforce_auth_after(requests):
    # text/plain: as a form, moto's Flask would take the body away from the handler that reads it.
    request = urllib.request.Request(
        f"{endpoint()}/moto-api/reset-auth", data=str(requests).encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(request).read()


def allow(actions):
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})


class AgainstMoto(unittest.TestCase):
    """The session against moto with IAM auth enforced, so a deleted key is refused as on AWS."""

    @classmethod
    def setUpClass(cls):
        endpoint()
        cls.suffix = uuid.uuid4().hex[:8]
        setup = boto3.client("iam", region_name="us-east-1")
        admin_name = f"py-rotator-{cls.suffix}"
        setup.create_user(UserName=admin_name)
        setup.put_user_policy(UserName=admin_name, PolicyName="admin", PolicyDocument=allow("*"))
        admin = setup.create_access_key(UserName=admin_name)["AccessKey"]
        cls.admin = boto3.Session(aws_access_key_id=admin["AccessKeyId"], aws_secret_access_key=admin["SecretAccessKey"], region_name="us-east-1")
        enforce_auth_after(0)

    @classmethod
    def tearDownClass(cls):
        enforce_auth_after("inf")

    def app_user(self, name):
        iam, secrets = self.admin.client("iam"), self.admin.client("secretsmanager")
        user = f"{name}-{self.suffix}"
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="app", PolicyDocument=allow("sts:GetCallerIdentity"))
        first = iam.create_access_key(UserName=user)["AccessKey"]
        secret_id = f"iam-key-rotator/{user}"
        secrets.create_secret(Name=secret_id, SecretString=json.dumps({"AccessKeyId": first["AccessKeyId"], "SecretAccessKey": first["SecretAccessKey"]}))
        return user, secret_id, first["AccessKeyId"]

    def rotate_and_delete(self, user, secret_id, old_key_id):
        """The rotator's part, squeezed: a new key to AWSCURRENT, then the old key deleted."""
        iam = self.admin.client("iam")
        new = iam.create_access_key(UserName=user)["AccessKey"]
        self.admin.client("secretsmanager").put_secret_value(
            SecretId=secret_id, SecretString=json.dumps({"AccessKeyId": new["AccessKeyId"], "SecretAccessKey": new["SecretAccessKey"]})
        )
        iam.delete_access_key(UserName=user, AccessKeyId=old_key_id)
        return new["AccessKeyId"]

    def test_a_session_follows_a_rotation_with_one_retried_call_and_no_restart(self):
        # Prepare: a session on the user's secret, and a client pinned to the first key for contrast.
        user, secret_id, first = self.app_user("py-app")
        session = rotating_session(secret_id, reader_session=self.admin)
        sts = session.client("sts")
        provider = session.iam_key_rotator_provider
        self.assertTrue(sts.get_caller_identity()["Arn"].endswith(f":user/{user}"))
        self.assertEqual(provider.key().access_key_id, first)
        pinned = boto3.client("sts", region_name="us-east-1", aws_access_key_id=first, aws_secret_access_key=provider.key().secret_access_key)

        # Act
        second = self.rotate_and_delete(user, secret_id, first)

        # Assess
        with self.assertRaises(ClientError) as refused:
            pinned.get_caller_identity()
        self.assertEqual(refused.exception.response["Error"]["Code"], "InvalidClientTokenId")
        after = sts.get_caller_identity()
        self.assertTrue(after["Arn"].endswith(f":user/{user}"))
        self.assertEqual(after["ResponseMetadata"]["RetryAttempts"], 1)
        self.assertEqual(provider.key().access_key_id, second)
        self.assertEqual(provider.reads, 2)

    def test_twenty_threads_refused_together_cost_one_read_and_all_succeed(self):
        # Prepare: the session holds the first key, which is then deleted.
        user, secret_id, first = self.app_user("py-threads")
        session = rotating_session(secret_id, reader_session=self.admin, policy=CachePolicy(min_read_interval=0))
        sts = session.client("sts")
        provider = session.iam_key_rotator_provider
        sts.get_caller_identity()
        self.rotate_and_delete(user, secret_id, first)
        errors = []

        def call():
            try:
                sts.get_caller_identity()
            except Exception as error:  # noqa: BLE001 - collected for the assertion
                errors.append(error)

        # Act
        threads = [threading.Thread(target=call) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        # Assess
        self.assertEqual(errors, [])
        self.assertEqual(provider.reads, 2)

    def test_a_missing_secret_raises_with_its_cause_and_is_read_again_only_once_the_backoff_passed(self):
        # Prepare: a clock that only the provider's own waits move.
        clock = Clock()
        provider = RotatingSecretCredentials(
            f"iam-key-rotator/nobody-{self.suffix}", reader_session=self.admin, clock=clock, sleep=clock.sleep, random=lambda: 0.5
        )

        # Act: the second request comes at once; the third after the second's longer backoff has not passed.
        with self.assertRaises(RotatingSecretUnavailableError) as first:
            provider.key()
        first_read_at = clock()
        with self.assertRaises(RotatingSecretUnavailableError) as second:
            provider.key()
        second_read_at = clock()
        with self.assertRaises(RotatingSecretUnavailableError):
            provider.key()

        # Assess
        self.assertIsInstance(first.exception.__cause__, ClientError)
        self.assertEqual(first.exception.__cause__.response["Error"]["Code"], "ResourceNotFoundException")
        self.assertIn("1 failed read in a row", str(first.exception))
        self.assertIn("2 failed reads in a row", str(second.exception))
        self.assertGreaterEqual(second_read_at - first_read_at, 1)
        self.assertEqual(provider.reads, 2)

    def test_after_the_ttl_the_new_key_is_read_without_any_refusal(self):
        # Prepare: a key read at the start of a 300 s TTL, then rotated (the old key still works).
        user, secret_id, first = self.app_user("py-ttl")
        clock = Clock()
        provider = RotatingSecretCredentials(secret_id, reader_session=self.admin, policy=CachePolicy(ttl=300), clock=clock, random=lambda: 0.5)
        self.assertEqual(provider.key().access_key_id, first)
        iam = self.admin.client("iam")
        new = iam.create_access_key(UserName=user)["AccessKey"]
        self.admin.client("secretsmanager").put_secret_value(SecretId=secret_id, SecretString=json.dumps({"AccessKeyId": new["AccessKeyId"], "SecretAccessKey": new["SecretAccessKey"]}))

        # Act
        clock.now += 299
        within = provider.key().access_key_id
        clock.now += 1
        after = provider.key().access_key_id

        # Assess
        self.assertEqual((within, after), (first, new["AccessKeyId"]))
        self.assertEqual(provider.reads, 2)


if __name__ == "__main__":
    unittest.main()
