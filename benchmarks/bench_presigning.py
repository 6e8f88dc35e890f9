"""Figure 2: presigned POST forms and GET URLs per second, vs building a boto3 client per call.

Presigning is local computation (an HMAC chain over a policy or a URL), so
the naive version's cost is creating the boto3 client each time. patchbay's
side is ``S3Client().generate_presigned_post()`` / ``generate_presigned_url()``
exactly as a view calls them, live (not simulated), with whatever the client
records (a signature is local: no IntegrationLog row, no health update). Targets:
at least 2,000 per second per process and at least 20x naive. The notes give
boto3's own rate with one cached client, the ceiling of any wrapper.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from benchmarks.common import (
    Figure,
    Settings,
    call_in_subprocess,
    compare,
    django_environment,
    figures_from,
)

PER_SECOND = 2000
TIMES_NAIVE = 20
ACCESS_KEY = "AKIABENCHMARK0000000"
SECRET_KEY = "bench/" + "s" * 34
BUCKET = "patchbay-bench"
REGION = "us-east-1"


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
    from patchbay.aws.s3 import S3Client
    from patchbay.models import IntegrationLog

    how = Settings(rounds=3, batch=5, warmup=3) if quick else Settings(15, 20, 20)
    cached = Settings(rounds=3, batch=20, warmup=5) if quick else Settings(15, 200, 100)
    keys = (f"uploads/bench/{n}.jpg" for n in itertools.count())
    bare = S3Client().s3  # patchbay's own boto3 client, for the bare reference

    def patchbay_post() -> Any:
        result = S3Client().generate_presigned_post(next(keys), expiration=600)
        assert result["success"], result
        assert not result.get("simulated"), result
        return result

    def patchbay_url() -> Any:
        result = S3Client().generate_presigned_url(next(keys), expiration=600)
        assert result["success"], result
        assert not result.get("simulated"), result
        return result

    def naive_post() -> Any:
        return _naive_client().generate_presigned_post(BUCKET, next(keys), ExpiresIn=600)

    def naive_url() -> Any:
        return _naive_client().generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": next(keys)}, ExpiresIn=600
        )

    def bare_post() -> Any:
        return bare.generate_presigned_post(BUCKET, next(keys), ExpiresIn=600)

    def bare_url() -> Any:
        return bare.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": next(keys)}, ExpiresIn=600
        )

    sides: dict[str, tuple[Callable[[], Any], Callable[[], Any], Callable[[], Any]]] = {
        "presigned POST form": (naive_post, bare_post, patchbay_post),
        "presigned GET URL": (naive_url, bare_url, patchbay_url),
    }
    figures = []
    for kind, (naive, bare_sdk, patchbay) in sides.items():
        result = compare(naive, patchbay, how)
        # The ceiling: boto3 alone with a client built once, in rounds long enough to time.
        alone = compare(bare_sdk, patchbay, cached)
        # patchbay's rate from the long rounds, the naive one from the short ones.
        per_second = 1 / alone.subject
        times = result.baseline / alone.subject
        figures.append(
            Figure(
                name=kind,
                baseline="boto3 client built per call",
                baseline_value=1 / result.baseline,
                value=per_second,
                unit="per s",
                ratio=times,
                target=f">= {PER_SECOND:,}/s and >= {TIMES_NAIVE}x",
                met=per_second >= PER_SECOND and times >= TIMES_NAIVE,
                notes=f"boto3 alone with one cached client: {1 / alone.baseline:,.0f}/s "
                f"(patchbay adds {(alone.subject - alone.baseline) * 1e6:.0f} us per "
                f"signature); {how.rounds} rounds of {how.batch} against naive, "
                f"{cached.rounds} of {cached.batch} against cached boto3",
            )
        )
    assert not IntegrationLog.objects.exists(), "presigning stored IntegrationLog rows"
    return figures


def _naive_client() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        config=Config(signature_version="s3v4"),
    )
