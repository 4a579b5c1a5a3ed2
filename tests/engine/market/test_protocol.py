"""Signed envelopes: every kind of bad message is rejected and counted."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from custom_components.energy_collective.engine.market import (
    Envelope,
    Keypair,
    MessageRejectedError,
    Verifier,
    decode,
    make_message,
    subscription,
    topic,
)
from custom_components.energy_collective.engine.market.protocol import (
    MAX_MESSAGE_BYTES,
    b64encode,
    load_public_key,
    sign,
)

COMMUNITY = "street-7"
NOW = 1_767_225_000_000
SLOT = 1_767_225_600
ORDER = {"side": "sell", "energy_wh": 1200, "price": 90_000}


@pytest.fixture(name="alice")
def alice_fixture() -> Keypair:
    return Keypair.generate()


@pytest.fixture(name="verifier")
def verifier_fixture(alice: Keypair) -> Verifier:
    return Verifier(COMMUNITY, {"alice": alice.public_key}, window_s=30)


def _order(key: Keypair, ts: int = NOW, sender: str = "alice", **kw: object) -> Envelope:
    return make_message(key, "order", COMMUNITY, sender, ts, payload=ORDER, slot=SLOT, **kw)  # type: ignore[arg-type]


def _reason(verifier: Verifier, data: bytes | str, now: int = NOW) -> str:
    with pytest.raises(MessageRejectedError) as err:
        verifier.verify(data, now)
    return err.value.reason


def test_valid_message_round_trip(alice: Keypair, verifier: Verifier) -> None:
    env = _order(alice)
    got = verifier.verify(env.encode(), NOW + 1000)
    assert got == env
    assert got.topic == "energy_collective/street-7/order/alice"
    assert verifier.counters["accepted"] == 1
    assert json.loads(env.encode())["sig"] == env.signature
    assert topic(COMMUNITY, "result", "bob") == "energy_collective/street-7/result/bob"
    assert subscription(COMMUNITY) == "energy_collective/street-7/#"


def test_forged_signature_is_rejected(alice: Keypair, verifier: Verifier) -> None:
    mallory = Keypair.generate()
    forged = _order(mallory)  # claims to be alice, signed with another key
    assert _reason(verifier, forged.encode()) == "bad_signature"
    genuine = _order(alice)
    altered = replace(genuine, payload={**ORDER, "energy_wh": 9999})
    assert _reason(verifier, altered.encode()) == "bad_signature"
    garbage_sig = replace(genuine, signature="not base64!")
    assert _reason(verifier, garbage_sig.encode()) == "bad_signature"
    assert verifier.counters["bad_signature"] == 3
    # the forged messages did not burn the genuine nonce
    assert verifier.verify(genuine.encode(), NOW) == genuine


def test_replay_is_rejected(alice: Keypair, verifier: Verifier) -> None:
    data = _order(alice).encode()
    verifier.verify(data, NOW)
    assert _reason(verifier, data, NOW + 5000) == "replayed"
    assert verifier.counters["replayed"] == 1


def test_stale_and_future_messages_are_rejected(alice: Keypair, verifier: Verifier) -> None:
    assert _reason(verifier, _order(alice, ts=NOW - 31_000).encode()) == "stale"
    assert _reason(verifier, _order(alice, ts=NOW + 31_000).encode()) == "stale"
    assert verifier.counters["stale"] == 2


def test_unsigned_and_unknown_sender(alice: Keypair, verifier: Verifier) -> None:
    unsigned = replace(_order(alice), signature="")
    assert _reason(verifier, unsigned.encode()) == "unsigned"
    obj = json.loads(unsigned.encode())
    del obj["sig"]
    assert _reason(verifier, json.dumps(obj)) == "unsigned"
    stranger = Keypair.generate()
    assert _reason(verifier, _order(stranger, sender="eve").encode()) == "unknown_sender"
    assert verifier.counters["unsigned"] == 2
    assert verifier.counters["unknown_sender"] == 1


@pytest.mark.parametrize(
    "mutate",
    [
        lambda o: "not json at all",
        lambda o: b"\xff\xfe",
        lambda o: "[1, 2]",
        lambda o: {**o, "extra": 1},
        lambda o: {k: v for k, v in o.items() if k != "nonce"},
        lambda o: {**o, "v": 2},
        lambda o: {**o, "type": "gossip"},
        lambda o: {**o, "community": "elsewhere"},
        lambda o: {**o, "sender": "a/b"},
        lambda o: {**o, "slot": -5},
        lambda o: {**o, "slot": None},
        lambda o: {**o, "ts": "yesterday"},
        lambda o: {**o, "payload": []},
        lambda o: {**o, "sig": 5},
        lambda o: {**o, "payload": {**o["payload"], "price": 0.09}},
        lambda o: {**o, "payload": {**o["payload"], "side": "hold"}},
        lambda o: {**o, "payload": {**o["payload"], "energy_wh": -1}},
        lambda o: {**o, "payload": {"side": "buy"}},
        lambda o: {**o, "type": "heartbeat"},
        lambda o: {**o, "type": "delivery"},
        lambda o: {**o, "type": "result"},
        lambda o: "x" * (MAX_MESSAGE_BYTES + 1),
    ],
)
def test_malformed_messages_are_rejected(
    alice: Keypair, verifier: Verifier, mutate: object
) -> None:
    obj = json.loads(_order(alice).encode())
    bad = mutate(obj)  # type: ignore[operator]
    data = bad if isinstance(bad, str | bytes) else json.dumps(bad)
    assert _reason(verifier, data) == "malformed"
    assert verifier.counters["malformed"] == 1


def test_payload_shapes_of_every_type(alice: Keypair) -> None:
    ok_result = {
        "mechanism": "auction",
        "digest": "0" * 64,
        "trades": 2,
        "volume_wh": 5,
        "price": 7,
    }
    make_message(alice, "result", COMMUNITY, "alice", NOW, payload=ok_result, slot=SLOT)
    make_message(
        alice,
        "delivery",
        COMMUNITY,
        "alice",
        NOW,
        payload={"export_wh": 1, "import_wh": 0},
        slot=SLOT,
    )
    make_message(alice, "heartbeat", COMMUNITY, "alice", NOW)
    for bad in (
        {**ok_result, "digest": "short"},
        {**ok_result, "mechanism": 3},
        {**ok_result, "trades": -1},
        {**ok_result, "price": "7"},
    ):
        with pytest.raises(ValueError, match="invalid result payload"):
            make_message(alice, "result", COMMUNITY, "alice", NOW, payload=bad, slot=SLOT)
    with pytest.raises(ValueError, match="heartbeat"):
        make_message(alice, "heartbeat", COMMUNITY, "alice", NOW, payload={"x": 1})
    with pytest.raises(ValueError, match="delivery"):
        make_message(
            alice,
            "delivery",
            COMMUNITY,
            "alice",
            NOW,
            payload={"export_wh": -1, "import_wh": 0},
            slot=SLOT,
        )
    with pytest.raises(ValueError, match="unknown type"):
        make_message(alice, "gossip", COMMUNITY, "alice", NOW)  # type: ignore[arg-type]


def test_keypair_store_round_trip(alice: Keypair) -> None:
    stored = json.loads(json.dumps(alice.to_json()))
    again = Keypair.from_json(stored)
    assert again.public_key == alice.public_key
    assert "private" not in repr(again)
    env = sign(Envelope("heartbeat", COMMUNITY, "alice", None, "n1", NOW), again)
    Verifier(COMMUNITY, {"alice": alice.public_key}).verify(env.encode(), NOW)
    with pytest.raises(ValueError, match="does not match"):
        Keypair.from_json({**stored, "public_key": Keypair.generate().public_key})
    with pytest.raises(ValueError, match="32 bytes"):
        Keypair.from_json({"private_key": b64encode(b"short")})
    with pytest.raises(ValueError, match="base64"):
        load_public_key("***")
    with pytest.raises(ValueError, match="32 bytes"):
        load_public_key(b64encode(b"short"))


def test_peer_management(alice: Keypair, verifier: Verifier) -> None:
    with pytest.raises(ValueError, match="home id"):
        verifier.add_peer("bad id", alice.public_key)
    verifier.remove_peer("alice")
    assert verifier.peers == {}
    assert _reason(verifier, _order(alice).encode()) == "unknown_sender"
    assert decode(_order(alice).encode(), COMMUNITY).sender == "alice"


def test_nonce_cache_expires_and_is_bounded(alice: Keypair) -> None:
    verifier = Verifier(
        COMMUNITY, {"alice": alice.public_key}, window_s=30, max_nonces_per_sender=3
    )
    for k in range(5):
        verifier.verify(_order(alice, ts=NOW + k).encode(), NOW + k)
    assert len(verifier._nonces["alice"]) == 3
    later = NOW + 120_000
    verifier.verify(_order(alice, ts=later).encode(), later)
    assert len(verifier._nonces["alice"]) == 1  # the old ones expired
