"""A stateful fake of the OpenAI Administration API, written from the official OpenAPI spec.

In process::

    emu = OpenAIEmulator()
    project_id = emu.add_project(name="demo")
    admin_key = emu.add_admin_key()
    seeded = emu.add_service_account(project_id, "app")
    client = httpx.Client(transport=emu.transport(), base_url="http://openai.test/v1")

Time comes from ``now``/``monotonic``/``sleep`` (a :class:`ManualClock` in tests), so keys with
``expires_in_seconds`` expire when the clock is advanced. Knobs (plain attributes, read on every
request) and seed methods are listed on :class:`OpenAIEmulator` and
:class:`~rotator.testing.openai_emulator.seeding.Seeding`.

Over real HTTP on 127.0.0.1::

    with OpenAIEmulatorServer(emu) as server:
        httpx.get(f"{server.base_url}/models", headers={"Authorization": f"Bearer {seeded.value}"})
"""

from rotator.testing.openai_emulator.emulator import MODEL_READ_SCOPES, Call, OpenAIEmulator
from rotator.testing.openai_emulator.faults import FAULT_KINDS, FaultKind, ManualClock
from rotator.testing.openai_emulator.key_handlers import REFUSED_DELETE
from rotator.testing.openai_emulator.schemas import REQUEST_SCHEMAS
from rotator.testing.openai_emulator.seeding import (
    KeyView,
    SeededKey,
    SeededUserKey,
    ServiceAccountView,
)
from rotator.testing.openai_emulator.server import OpenAIEmulatorServer
from rotator.testing.openai_emulator.wire import DeleteKnob, EndpointKnob

__all__ = [
    "FAULT_KINDS",
    "MODEL_READ_SCOPES",
    "REFUSED_DELETE",
    "REQUEST_SCHEMAS",
    "Call",
    "DeleteKnob",
    "EndpointKnob",
    "FaultKind",
    "KeyView",
    "ManualClock",
    "OpenAIEmulator",
    "OpenAIEmulatorServer",
    "SeededKey",
    "SeededUserKey",
    "ServiceAccountView",
]
