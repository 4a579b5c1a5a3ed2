"""A real Mosquitto broker on loopback and homes that talk through it with paho-mqtt.

The broker is the Debian package's binary (`apt-get install mosquitto`); without it these tests
are skipped. It is started once per module on a free 127.0.0.1 port with a generated config
(loopback listener only, anonymous access, no persistence). Clients use paho-mqtt's manual
`loop()` from the test thread, so no thread outlives a test (Home Assistant's test plugin
checks for that) and the order of events is under the test's control.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_socket

from custom_components.energy_collective.engine.market import (
    Envelope,
    Keypair,
    MarketConfig,
    MarketSession,
    subscription,
)

MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)

requires_mosquitto = pytest.mark.skipif(
    MOSQUITTO is None,
    reason="the mosquitto broker is not installed (Debian: apt-get install -y mosquitto)",
)


@dataclass(frozen=True, slots=True)
class Broker:
    """Where the test broker listens."""

    host: str
    port: int


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mosquitto exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("mosquitto did not start listening")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Generator[Broker]:
    """A Mosquitto broker for the module, on a free loopback port."""
    if MOSQUITTO is None:
        pytest.skip("the mosquitto broker is not installed")
    pytest_socket.enable_socket()  # loopback only; Home Assistant's plugin disables sockets
    directory = tmp_path_factory.mktemp("mosquitto")
    port = _free_port()
    config = directory / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        "persistence false\n"
        "log_dest stderr\n"
        "log_type error\n"
        "log_type warning\n"
        "max_inflight_messages 0\n",
        encoding="utf-8",
    )
    log = (directory / "mosquitto.log").open("wb")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_listening(port, proc)
        yield Broker("127.0.0.1", port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck broker
            proc.kill()
            proc.wait()
        log.close()


class Clock:
    """The simulated time every home reads (Unix seconds)."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def new_client(broker: Broker, client_id: str, inbox: list[bytes] | None = None) -> object:
    """A connected paho-mqtt client subscribed to nothing yet; messages go to `inbox`."""
    from paho.mqtt import client as mqtt

    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv311,
    )
    if inbox is not None:
        client.on_message = lambda _c, _u, msg: inbox.append(bytes(msg.payload))
    client.connect(broker.host, broker.port, keepalive=30)
    return client


@dataclass
class Home:
    """One home: a MarketSession whose messages travel through the broker."""

    name: str
    session: MarketSession
    client: object
    inbox: list[bytes] = field(default_factory=list)
    expected: int = 0
    received: int = 0
    online: bool = True

    def process(self) -> None:
        while self.inbox:
            self.received += 1
            self.session.receive(self.inbox.pop(0))

    def disconnect(self) -> None:
        self.client.disconnect()  # type: ignore[attr-defined]
        self.client.loop(timeout=0.01)  # type: ignore[attr-defined]
        self.online = False


class Community:
    """Several homes (and any extra clients) on one broker, pumped from the test thread."""

    def __init__(self, broker: Broker, config: MarketConfig, names: Iterable[str], t0: float):
        self.broker = broker
        self.config = config
        self.clock = Clock(t0)
        self.keys = {n: Keypair.generate() for n in names}
        self.peers = {n: k.public_key for n, k in self.keys.items()}
        self.homes: dict[str, Home] = {}
        self.extra: list[object] = []
        for name in self.keys:
            session = MarketSession(config, name, self.keys[name], self.peers, clock=self.clock)
            inbox: list[bytes] = []
            client = new_client(broker, f"{config.community}-{name}", inbox)
            home = Home(name, session, client, inbox)
            self.homes[name] = home
        self.pump(lambda: all(c.is_connected() for c in self.clients()))  # type: ignore[attr-defined]
        for home in self.homes.values():
            home.client.subscribe(subscription(config.community), qos=1)  # type: ignore[attr-defined]
        self.pump(lambda: False, duration=0.1)  # let the subscriptions settle

    def clients(self) -> list[object]:
        return [h.client for h in self.homes.values() if h.online] + self.extra

    def online(self) -> list[Home]:
        return [h for h in self.homes.values() if h.online]

    def pump(
        self, until: Callable[[], bool], timeout: float = 5.0, duration: float | None = None
    ) -> None:
        """Run the network loops until `until()` holds (or for `duration` seconds)."""
        deadline = time.monotonic() + (duration if duration is not None else timeout)
        while True:
            for client in self.clients():
                client.loop(timeout=0.002)  # type: ignore[attr-defined]
            for home in self.online():
                home.process()
            if duration is None and until():
                return
            if time.monotonic() > deadline:
                if duration is not None:
                    return
                raise TimeoutError("the network did not settle")

    def publish(self, sender: object, envelopes: Iterable[Envelope | tuple[str, bytes]]) -> None:
        """Publish from a home (or any client); every online home is owed a copy."""
        client = sender.client if isinstance(sender, Home) else sender
        for item in envelopes:
            t, data = (item.topic, item.encode()) if isinstance(item, Envelope) else item
            client.publish(t, data, qos=1)  # type: ignore[attr-defined]
            for home in self.online():
                home.expected += 1

    def settle(self) -> None:
        """Pump until every online home has received all it is owed."""
        self.pump(lambda: all(h.received >= h.expected for h in self.online()))

    def step(self, seconds: float) -> None:
        """Advance the clock; every online home ticks; messages are delivered."""
        self.clock.t += seconds
        for home in self.online():
            self.publish(home, home.session.tick())
        self.settle()

    def run_until(self, unix_s: float, step_s: float = 30.0) -> None:
        """Tick in `step_s` steps until the clock reaches `unix_s`."""
        while self.clock.t < unix_s:
            self.step(min(step_s, unix_s - self.clock.t))

    def close(self) -> None:
        for client in self.clients():
            client.disconnect()  # type: ignore[attr-defined]
            client.loop(timeout=0.01)  # type: ignore[attr-defined]
