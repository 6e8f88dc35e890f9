"""django-patchbay's benchmarks: ``python -m benchmarks.run`` (see docs/performance.rst).

Every figure is a ratio against a baseline measured in the same run, so that
the drift of a shared machine cancels out. Each ``bench_<name>.py`` module
exposes ``run(quick: bool) -> list[Figure]``; the runner runs each in its own
process, prints one table and writes JSON.
"""

from __future__ import annotations
