"""The soak, short (benchmarks/soak.py runs the long one): three `unmeet serve` and two `unmeet worker`
processes on one PostgreSQL, signed Slack requests spread over the serve instances, a random process
killed with SIGKILL every 1.5 s and started again. Nothing may be lost, sent twice or left dead."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.conftest import require_postgres

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import soak  # noqa: E402 - benchmarks/ is not a package


async def test_five_instances_under_kill_9_lose_nothing_and_send_nothing_twice(tmp_path):
    require_postgres()
    result = await soak.soak(members=30, channel_count=2, round_count=4, focus_count=8, kill_every=1.5,
                             digest_in=15, work=tmp_path)
    print(result.line())
    assert result.kills >= 5 and result.rounds >= 4 and result.dms >= 4 * 14 and result.answers > 0
    assert (result.lost, result.duplicated, result.threads_dup, result.answers_lost, result.focus_dup,
            result.dead) == (0, 0, 0, 0, 0, 0), result.line()
    assert result.digests == result.channels == 2, result.line()
