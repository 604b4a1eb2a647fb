"""Real `unmeet` processes for the operator's endpoints: started with only the settings a test gives,
their output kept in a file, always stopped."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.fakes.processes import ROOT, clean_env, free_port


@dataclass
class Process:
    url: str
    process: asyncio.subprocess.Process
    log_path: Path
    session: aiohttp.ClientSession

    async def get(self, path: str) -> tuple[int, str]:
        async with self.session.get(self.url + path) as response:
            return response.status, await response.text()

    async def get_json(self, path: str) -> tuple[int, dict]:
        async with self.session.get(self.url + path) as response:
            return response.status, await response.json()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


async def wait_until(predicate, timeout: float = 20.0, every: float = 0.1):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(every)


@asynccontextmanager
async def unmeet(log_dir: Path, *args: str, port_setting: str = "PORT", **settings: str) -> AsyncIterator[Process]:
    """`python -m unmeet <args>` with `settings` as its whole environment, answering /healthz on a free port."""
    port = free_port()
    env = clean_env(HOST="127.0.0.1", **{port_setting: str(port)}, **settings)
    log_path = log_dir / f"{args[0]}-{port}.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "unmeet", *args, cwd=ROOT, env=env,
                                                       stdout=log_file, stderr=log_file)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
    running = Process(f"http://127.0.0.1:{port}", process, log_path, session)
    try:
        async def healthy() -> bool:
            if process.returncode is not None:
                raise AssertionError(f"unmeet {args[0]} exited: {running.log()}")
            try:
                return (await running.get("/healthz"))[0] == 200
            except aiohttp.ClientError:
                return False

        assert await wait_until(healthy, 30, 0.05), running.log()
        yield running
    finally:
        await session.close()
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()
