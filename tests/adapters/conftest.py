"""The OpenAI adapter's test world: the emulator behind httpx.MockTransport or a loopback server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from rotator.adapters.openai_http import OpenAIHttp, build_http_client
from rotator.clock import Clock
from rotator.domain.sensitive import Sensitive
from rotator.ports import OpenAIAdmin
from rotator.retry import Backoff
from rotator.testing.openai_emulator import ManualClock, OpenAIEmulator, OpenAIEmulatorServer


@dataclass
class World:
    """An emulator, its clock, the adapter wired to it, and the waits the retry loop took."""

    emu: OpenAIEmulator
    clock: ManualClock
    openai: OpenAIHttp
    sleeps: list[float]
    project: str
    admin_key: str

    def admin(self, key: str | None = None) -> OpenAIAdmin:
        return self.openai.admin(Sensitive(key or self.admin_key))


def retry_clock(clock: ManualClock, sleeps: list[float]) -> Clock:
    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds)

    return Clock(monotonic=clock.monotonic, sleep=sleep, rng=lambda: 0.0)


@pytest.fixture(params=["mock", "loopback"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    """The same world through httpx.MockTransport and through a real server on 127.0.0.1."""
    clock, sleeps = ManualClock(), []
    emu = OpenAIEmulator(now=clock.now, monotonic=clock.monotonic, sleep=clock.sleep)
    project, admin_key = emu.add_project(name="Payments"), emu.add_admin_key()
    backoff = Backoff(base=0.5, cap=4.0, deadline=20.0)
    if request.param == "mock":
        with httpx.Client(transport=emu.transport()) as http:
            openai = OpenAIHttp(
                http, "https://openai.test/v1", backoff=backoff, clock=retry_clock(clock, sleeps)
            )
            yield World(emu, clock, openai, sleeps, project, admin_key)
        return
    with OpenAIEmulatorServer(emu) as server, build_http_client(read_timeout=5.0) as http:
        openai = OpenAIHttp(
            http, server.base_url, backoff=backoff, clock=retry_clock(clock, sleeps)
        )
        yield World(emu, clock, openai, sleeps, project, admin_key)
