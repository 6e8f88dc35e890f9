"""Figure 2: presigned GET URLs and POST forms against django-storages and a cached boto3 client.

Presigning is local computation (an HMAC chain over a URL or a policy). patchbay's
side is ``S3Client().generate_presigned_url()`` / ``generate_presigned_post()``
exactly as a view calls them: a new client per signature, live (not simulated),
with whatever the client records (a signature is local: no IntegrationLog row,
no health update). The baselines are what a project without patchbay would
write: django-storages' ``S3Storage.url()`` (presigned GETs, ``querystring_auth``)
and ONE boto3 client built once and reused; both have the same bucket, region
and credentials. Targets: presigned GET URLs at least 1.0x django-storages and
at least 0.95x the cached client; POST forms (django-storages makes none) at
least 0.95x the cached client. A boto3 client built per call is in the notes,
for information only.

Timed in CPU time (``time.process_time``, every thread of the process): a
signature is pure computation in this process, and on a shared machine wall
time counts the neighbours' turns on the CPU as signing (signatures measured
2-10x slower, run to run).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

from benchmarks.common import (
    Comparison,
    Figure,
    Settings,
    call_in_subprocess,
    compare,
    django_environment,
    figures_from,
)

TIMES_STORAGES = 1.0
TIMES_CACHED = 0.95
ACCESS_KEY = "AKIABENCHMARK0000000"
SECRET_KEY = "bench/" + "s" * 34
BUCKET = "patchbay-bench"
REGION = "us-east-1"
EXPIRES = 600


def run(quick: bool) -> list[Figure]:
    # Signing touches neither the database nor the cache: one process, on SQLite, does.
    return figures_from(call_in_subprocess(__name__, "measure", {"quick": quick}, timeout=600))


def measure(quick: bool) -> list[Figure]:
    django_environment(
        "sqlite",
        label="presigning",
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_STORAGE_BUCKET_NAME=BUCKET,
        AWS_REGION=REGION,
    )
    from importlib import metadata

    from storages.backends.s3 import S3Storage

    from patchbay.aws.s3 import S3Client
    from patchbay.models import IntegrationLog

    how = Settings(rounds=3, batch=20, warmup=5) if quick else Settings(15, 200, 100)
    naive_how = Settings(rounds=3, batch=5, warmup=3) if quick else Settings(5, 10, 5)
    keys = (f"uploads/bench/{n}.jpg" for n in itertools.count())
    cached = _boto3_client()  # built once, as a project keeps one
    storage = S3Storage(
        bucket_name=BUCKET,
        region_name=REGION,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        signature_version="s3v4",
        querystring_auth=True,
        querystring_expire=EXPIRES,
    )

    def patchbay_url() -> Any:
        result = S3Client().generate_presigned_url(next(keys), expiration=EXPIRES)
        assert result["success"], result
        assert not result.get("simulated"), result
        return result

    def patchbay_post() -> Any:
        result = S3Client().generate_presigned_post(next(keys), expiration=EXPIRES)
        assert result["success"], result
        assert not result.get("simulated"), result
        return result

    def storages_url() -> Any:
        return storage.url(next(keys))

    def cached_url() -> Any:
        return cached.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": next(keys)}, ExpiresIn=EXPIRES
        )

    def cached_post() -> Any:
        return cached.generate_presigned_post(BUCKET, next(keys), ExpiresIn=EXPIRES)

    def naive_url() -> Any:
        return _boto3_client().generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": next(keys)}, ExpiresIn=EXPIRES
        )

    def naive_post() -> Any:
        return _boto3_client().generate_presigned_post(BUCKET, next(keys), ExpiresIn=EXPIRES)

    storages_version = metadata.version("django-storages")
    rows: list[tuple[str, str, Callable[[], Any], Callable[[], Any], float, Callable[[], Any]]] = [
        (
            "presigned GET URL",
            f"django-storages {storages_version} S3Storage.url()",
            storages_url,
            patchbay_url,
            TIMES_STORAGES,
            naive_url,
        ),
        (
            "presigned GET URL",
            "one cached boto3 client",
            cached_url,
            patchbay_url,
            TIMES_CACHED,
            naive_url,
        ),
        (
            "presigned POST form",
            "one cached boto3 client",
            cached_post,
            patchbay_post,
            TIMES_CACHED,
            naive_post,
        ),
    ]
    figures = []
    for kind, baseline_name, baseline, patchbay, target, naive in rows:
        result = compare(baseline, patchbay, how, clock=time.process_time)
        per_call = compare(naive, patchbay, naive_how, clock=time.process_time)  # information
        times = result.baseline / result.subject  # the rates' ratio: 1.0 is as fast
        figures.append(
            Figure(
                name=f"{kind} vs {baseline_name.split(' S3Storage')[0]}",
                baseline=baseline_name,
                baseline_value=1 / result.baseline,
                value=1 / result.subject,
                unit="per s",
                ratio=times,
                target=f">= {target:.2f}x",
                met=times >= target,
                notes=_notes(result, per_call, how),
            )
        )
    assert not IntegrationLog.objects.exists(), "presigning stored IntegrationLog rows"
    return figures


def _notes(result: Comparison, per_call: Comparison, how: Settings) -> str:
    added = (result.subject - result.baseline) * 1e6
    return (
        f"patchbay {'adds' if added >= 0 else 'saves'} {abs(added):.0f} us per signature "
        f"({result.subject * 1e6:.0f} vs {result.baseline * 1e6:.0f} us); "
        f"for information, a boto3 client built per call: {1 / per_call.baseline:,.0f}/s; "
        f"{how.rounds} interleaved rounds of {how.batch}, medians of CPU time"
    )


def _boto3_client() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        config=Config(signature_version="s3v4"),
    )
