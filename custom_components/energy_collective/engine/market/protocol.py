"""Signed messages between homes, independent of the transport.

Envelope
    Every message is one JSON object::

        {"v": 1, "type": "order", "community": "street-7", "sender": "home-a",
         "slot": 1767225600, "nonce": "9f...", "ts": 1767224712345,
         "payload": {...}, "sig": "<base64 Ed25519 signature>"}

    The signature is Ed25519 over `canonical_json` of the object without "sig" (sorted keys,
    no whitespace, integers only). `slot` is the delivery slot's start (Unix seconds) or null
    for messages that are not about one slot (heartbeats). `nonce` is 16 random bytes in hex,
    `ts` the sender's clock in Unix milliseconds.

Verification (`Verifier.verify`) rejects, in this order, and counts each reason:

    malformed      not UTF-8 JSON, missing or extra fields, wrong types, another community,
                   an unknown type or a payload that does not fit the type
    unsigned       no signature
    unknown_sender the sender is not a known peer
    bad_signature  the signature does not verify with the sender's key (forged or altered)
    stale          ts is further than `window_s` from the receiver's clock
    replayed       the sender already used this nonce (kept for twice the window; anything
                   older is stale anyway)

A nonce is remembered only after the signature verified, so forged messages cannot fill the
cache. Accepted messages are counted as "accepted".

Keys
    `Keypair` wraps an Ed25519 private key; `to_json`/`from_json` give base64 strings that a
    Home Assistant Store can keep. Peers are known by their base64 public key.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from .orders import MAX_NONCE_LENGTH, canonical_json, is_int, valid_id

VERSION: Final = 1
TOPIC_ROOT: Final = "energy_collective"
MAX_MESSAGE_BYTES: Final = 64 * 1024

MessageType = Literal["order", "result", "heartbeat", "delivery"]
MESSAGE_TYPES: tuple[MessageType, ...] = ("order", "result", "heartbeat", "delivery")

Reason = Literal["malformed", "unsigned", "unknown_sender", "bad_signature", "stale", "replayed"]
REASONS: tuple[Reason, ...] = (
    "malformed",
    "unsigned",
    "unknown_sender",
    "bad_signature",
    "stale",
    "replayed",
)

_FIELDS = frozenset(("v", "type", "community", "sender", "slot", "nonce", "ts", "payload", "sig"))


def b64encode(data: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Strict standard base64; raises ValueError."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as err:
        raise ValueError("invalid base64") from err


def new_nonce() -> str:
    """16 random bytes in hex."""
    return secrets.token_hex(16)


def topic(community: str, message_type: str, sender: str) -> str:
    """The MQTT topic of a message: energy_collective/<community>/<type>/<sender>."""
    return f"{TOPIC_ROOT}/{community}/{message_type}/{sender}"


def subscription(community: str) -> str:
    """The topic filter a home subscribes to for its community."""
    return f"{TOPIC_ROOT}/{community}/#"


class Keypair:
    """An Ed25519 key pair of one home."""

    __slots__ = ("_private", "public_key")

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key: str = b64encode(raw)
        """The public key as base64 text: what peers are given."""

    @classmethod
    def generate(cls) -> Keypair:
        """A fresh random key pair."""
        return cls(Ed25519PrivateKey.generate())

    def sign(self, data: bytes) -> bytes:
        """Ed25519 signature of `data`."""
        return self._private.sign(data)

    def to_json(self) -> dict[str, str]:
        """JSON-safe form for a Store: base64 raw private and public key."""
        raw = self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return {"private_key": b64encode(raw), "public_key": self.public_key}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Keypair:
        """Inverse of `to_json`; raises ValueError on a bad or inconsistent key."""
        raw = b64decode(str(data["private_key"]))
        if len(raw) != 32:
            raise ValueError("an Ed25519 private key has 32 bytes")
        pair = cls(Ed25519PrivateKey.from_private_bytes(raw))
        if "public_key" in data and data["public_key"] != pair.public_key:
            raise ValueError("public key does not match the private key")
        return pair

    def __repr__(self) -> str:
        return f"Keypair(public_key={self.public_key!r})"


def load_public_key(text: str) -> Ed25519PublicKey:
    """A peer's base64 public key; raises ValueError."""
    raw = b64decode(text)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message between homes (see module docstring); `signature` is base64 or ""."""

    type: str
    community: str
    sender: str
    slot: int | None
    nonce: str
    timestamp_ms: int
    payload: Mapping[str, Any] = field(default_factory=dict)
    signature: str = ""

    def unsigned_json(self) -> dict[str, Any]:
        """The object the signature covers."""
        return {
            "v": VERSION,
            "type": self.type,
            "community": self.community,
            "sender": self.sender,
            "slot": self.slot,
            "nonce": self.nonce,
            "ts": self.timestamp_ms,
            "payload": dict(self.payload),
        }

    def signing_bytes(self) -> bytes:
        """The canonical bytes that are signed."""
        return canonical_json(self.unsigned_json())

    def encode(self) -> bytes:
        """Wire form: canonical JSON including the signature."""
        data = self.unsigned_json()
        data["sig"] = self.signature
        return canonical_json(data)

    @property
    def topic(self) -> str:
        """The MQTT topic this message is published on."""
        return topic(self.community, self.type, self.sender)


def sign(envelope: Envelope, keypair: Keypair) -> Envelope:
    """The envelope with its Ed25519 signature."""
    return replace(envelope, signature=b64encode(keypair.sign(envelope.signing_bytes())))


def make_message(
    keypair: Keypair,
    message_type: MessageType,
    community: str,
    sender: str,
    now_ms: int,
    *,
    payload: Mapping[str, Any] | None = None,
    slot: int | None = None,
    nonce: str | None = None,
) -> Envelope:
    """A new signed envelope with a fresh nonce (unless one is given)."""
    envelope = Envelope(
        type=message_type,
        community=community,
        sender=sender,
        slot=slot,
        nonce=nonce or new_nonce(),
        timestamp_ms=now_ms,
        payload=dict(payload or {}),
    )
    check = payload_problem(message_type, envelope.payload)
    if check:
        raise ValueError(f"invalid {message_type} payload: {check}")
    return sign(envelope, keypair)


class MessageRejectedError(Exception):
    """A message that failed verification; `reason` is one of REASONS."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: Reason = reason
        self.detail = detail


def _int_in(value: Any, low: int, high: int) -> bool:
    return is_int(value) and low <= value <= high


def payload_problem(message_type: str, payload: Mapping[str, Any]) -> str | None:
    """What is wrong with a payload for its message type, or None."""
    if message_type == "order":
        if set(payload) != {"side", "energy_wh", "price"}:
            return "an order has side, energy_wh and price"
        if payload["side"] not in ("buy", "sell"):
            return "bad side"
        if not _int_in(payload["energy_wh"], 0, 10_000_000):
            return "bad energy_wh"
        if not _int_in(payload["price"], -1_000_000_000, 1_000_000_000):
            return "bad price"
        return None
    if message_type == "result":
        if set(payload) != {"mechanism", "digest", "trades", "volume_wh", "price"}:
            return "a result has mechanism, digest, trades, volume_wh and price"
        digest = payload["digest"]
        if not (isinstance(digest, str) and len(digest) == 64 and digest.isascii()):
            return "bad digest"
        if not isinstance(payload["mechanism"], str):
            return "bad mechanism"
        if not (_int_in(payload["trades"], 0, 10**9) and _int_in(payload["volume_wh"], 0, 10**15)):
            return "bad counts"
        if payload["price"] is not None and not is_int(payload["price"]):
            return "bad price"
        return None
    if message_type == "heartbeat":
        return None if not payload else "a heartbeat has no payload"
    if message_type == "delivery":
        if set(payload) != {"export_wh", "import_wh"}:
            return "a delivery has export_wh and import_wh"
        if not all(_int_in(payload[k], 0, 10_000_000) for k in ("export_wh", "import_wh")):
            return "bad energies"
        return None
    return f"unknown type {message_type!r}"


def decode(data: bytes | str, community: str) -> Envelope:
    """Parse and check the shape of a message; raises MessageRejectedError('malformed')."""
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageRejectedError("malformed", "too large")
    try:
        obj = json.loads(data.decode("utf-8"), parse_float=_no_float, parse_constant=_no_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise MessageRejectedError("malformed", "not JSON") from err
    if not isinstance(obj, dict):
        raise MessageRejectedError("malformed", "not an object")
    if set(obj) != _FIELDS and set(obj) != _FIELDS - {"sig"}:
        raise MessageRejectedError("malformed", "wrong fields")
    problems = (
        (obj["v"] == VERSION and is_int(obj["v"]), "version"),
        (obj["type"] in MESSAGE_TYPES, "type"),
        (obj["community"] == community, "community"),
        (valid_id(obj["sender"]), "sender"),
        (obj["slot"] is None or (is_int(obj["slot"]) and obj["slot"] >= 0), "slot"),
        (valid_id(obj["nonce"], MAX_NONCE_LENGTH), "nonce"),
        (is_int(obj["ts"]) and obj["ts"] >= 0, "ts"),
        (isinstance(obj["payload"], dict), "payload"),
        (isinstance(obj.get("sig", ""), str), "sig"),
    )
    for ok, name in problems:
        if not ok:
            raise MessageRejectedError("malformed", f"bad {name}")
    problem = payload_problem(obj["type"], obj["payload"])
    if problem:
        raise MessageRejectedError("malformed", problem)
    if obj["type"] in ("order", "result", "delivery") and obj["slot"] is None:
        raise MessageRejectedError("malformed", f"a {obj['type']} needs a slot")
    return Envelope(
        type=obj["type"],
        community=obj["community"],
        sender=obj["sender"],
        slot=obj["slot"],
        nonce=obj["nonce"],
        timestamp_ms=obj["ts"],
        payload=obj["payload"],
        signature=obj.get("sig", ""),
    )


def _no_float(text: str) -> Any:
    raise ValueError(f"non-integer number {text}")


class Verifier:
    """Checks incoming messages of one community against the known peers."""

    def __init__(
        self,
        community: str,
        peers: Mapping[str, str] | None = None,
        window_s: float = 30.0,
        max_nonces_per_sender: int = 20_000,
    ) -> None:
        self.community = community
        self.window_ms = int(window_s * 1000)
        self.max_nonces = max_nonces_per_sender
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._public: dict[str, str] = {}
        self._nonces: dict[str, dict[str, int]] = {}
        self.counters: Counter[str] = Counter(dict.fromkeys((*REASONS, "accepted"), 0))
        for home_id, key in (peers or {}).items():
            self.add_peer(home_id, key)

    @property
    def peers(self) -> dict[str, str]:
        """Known peers: home id -> base64 public key."""
        return dict(self._public)

    def add_peer(self, home_id: str, public_key: str) -> None:
        """Trust `public_key` (base64) for messages from `home_id`; raises ValueError."""
        if not valid_id(home_id):
            raise ValueError(f"invalid home id {home_id!r}")
        self._keys[home_id] = load_public_key(public_key)
        self._public[home_id] = public_key

    def remove_peer(self, home_id: str) -> None:
        """Stop trusting `home_id`."""
        self._keys.pop(home_id, None)
        self._public.pop(home_id, None)
        self._nonces.pop(home_id, None)

    def verify(self, data: bytes | str, now_ms: int) -> Envelope:
        """The verified envelope; raises MessageRejectedError (and counts the reason)."""
        try:
            envelope = self._verify(data, now_ms)
        except MessageRejectedError as err:
            self.counters[err.reason] += 1
            raise
        self.counters["accepted"] += 1
        return envelope

    def _verify(self, data: bytes | str, now_ms: int) -> Envelope:
        envelope = decode(data, self.community)
        if not envelope.signature:
            raise MessageRejectedError("unsigned")
        key = self._keys.get(envelope.sender)
        if key is None:
            raise MessageRejectedError("unknown_sender", envelope.sender)
        try:
            signature = b64decode(envelope.signature)
            key.verify(signature, envelope.signing_bytes())
        except (ValueError, InvalidSignature) as err:
            raise MessageRejectedError("bad_signature", envelope.sender) from err
        if abs(now_ms - envelope.timestamp_ms) > self.window_ms:
            raise MessageRejectedError(
                "stale", f"{(now_ms - envelope.timestamp_ms) / 1000:.1f} s off"
            )
        seen = self._nonces.setdefault(envelope.sender, {})
        if envelope.nonce in seen:
            raise MessageRejectedError("replayed", envelope.sender)
        self._remember(seen, envelope.nonce, envelope.timestamp_ms, now_ms)
        return envelope

    def _remember(self, seen: dict[str, int], nonce: str, ts: int, now_ms: int) -> None:
        horizon = now_ms - 2 * self.window_ms
        if len(seen) >= self.max_nonces or (seen and next(iter(seen.values())) < horizon):
            for old in [n for n, t in seen.items() if t < horizon]:
                del seen[old]
            while len(seen) >= self.max_nonces:
                # still full of fresh nonces (a flood): drop the oldest; a replay of it is
                # then caught only by the stale check
                del seen[min(seen, key=seen.__getitem__)]
        seen[nonce] = ts
