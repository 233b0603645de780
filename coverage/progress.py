"""Progress reporting through :mod:`logging`, so library users and the CLI share it.

The CLI shows INFO messages on stderr; scripts see nothing unless they configure
logging (``logging.basicConfig(level=logging.INFO)``).
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from collections.abc import Iterator

log = logging.getLogger("coverage")


class Stage:
    """What a stage reports when it ends: set ``stage.result = "12,345 cells"``."""

    result: str = ""


@contextmanager
def stage(name: str) -> Iterator[Stage]:
    """Log the start of a pipeline stage and, when it ends, its result and duration."""
    log.info("%s …", name)
    start = time.perf_counter()
    info = Stage()
    yield info
    elapsed = time.perf_counter() - start
    log.info("  %s%s(%.1f s)", info.result, " " if info.result else "", elapsed)


def every(seconds: float, report):
    """Wrap ``report`` so it runs at most once per ``seconds`` (for loops with many steps)."""
    last = time.perf_counter()

    def throttled(*args):
        nonlocal last
        now = time.perf_counter()
        if now - last >= seconds:
            last = now
            report(*args)

    return throttled
