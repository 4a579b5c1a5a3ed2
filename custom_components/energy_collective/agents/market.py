"""Trading agent: this home's part in its community's energy market, over MQTT.

The engine's `MarketSession` does the market (orders, clearing, settlement, signatures); this
agent moves its messages through Home Assistant's MQTT integration and ties it to the home:

- identity: an Ed25519 key pair made once and kept in a Store; the peers are the home's
  "community peer" subentries (home id and public key);
- orders: after every new plan, the plan's surplus or deficit per open slot is offered or bid
  at the plan's marginal value, between the feed-in and the retail price;
- trades: a planner adjuster puts the cleared trades into every problem (sold energy as load,
  bought energy as supply), and a new trade asks for a re-plan;
- delivery: the grid power is integrated per slot; after a slot in which the home traded, its
  measured export and import are reported and the slot is settled; the totals (energy sold and
  bought, revenue and cost) are kept in the Store;
- a timer every `MARKET_TICK_INTERVAL` sends heartbeats and clears slots at their time.

MQTT is optional for the integration: without it (or while it is not set up) the home keeps
working, a repair issue says why trading waits, and the agent tries again on every tick.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from homeassistant.components import mqtt
from homeassistant.components.mqtt.models import ReceiveMessage
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util import slugify

from ..collective import EnergyCollectiveConfigEntry
from ..const import (
    CONF_MARKET_COMMUNITY,
    CONF_MARKET_GATE_MINUTES,
    CONF_MARKET_HOME_ID,
    CONF_MARKET_MECHANISM,
    CONF_PEER_HOME_ID,
    CONF_PEER_PUBLIC_KEY,
    DEFAULT_MARKET_GATE_MINUTES,
    DEFAULT_MARKET_MECHANISM,
    DOMAIN,
    MARKET_KEEP_SLOTS,
    MARKET_MIN_CHANGE_PRICE,
    MARKET_MIN_CHANGE_WH,
    MARKET_ORDER_HORIZON,
    MARKET_SAVE_DELAY_S,
    MARKET_STORE_VERSION,
    MARKET_TICK_INTERVAL,
    SUBENTRY_PEER,
    store_key,
)
from ..coordinator import AgentCoordinator
from ..engine.market import (
    Envelope,
    Keypair,
    Ledger,
    MarketConfig,
    MarketEvent,
    MarketSession,
    OrderDraft,
    Position,
    apply_positions,
    micro_to_price,
    nano_to_money,
    orders_from_plan,
    positions_of,
    price_to_micro,
    split_by_slot,
    subscription,
)
from ..engine.market.protocol import REASONS
from ..engine.model import Problem
from .collector import CollectorCoordinator, home_config
from .planner import PlannerCoordinator

_LOGGER = logging.getLogger(__name__)

MAX_SAMPLE_GAP_S = 120.0
"""A longer gap between two grid samples is not integrated (Home Assistant was stopped)."""
LAST_CALL_HEARTBEATS = 2
"""Open orders are sent once more this many heartbeats before their gate."""


def default_home_id(title: str) -> str:
    """A market id from a home's name ("Home A" -> "home_a")."""
    return slugify(title) or "home"


@dataclass(slots=True)
class MarketTotals:
    """What the home has traded and settled since trading began (kept in the Store)."""

    sold_kwh: float = 0.0
    """Energy sold to peers and delivered (sold minus any shortfall)."""
    bought_kwh: float = 0.0
    """Energy bought from peers and used (bought minus any excess)."""
    revenue: float = 0.0
    """Received from buyers, less the shortfall charged at retail."""
    cost: float = 0.0
    """Paid to sellers, less the excess credited at feed-in."""


class MarketAgent(AgentCoordinator[None]):
    """The market agent of one home (see module docstring)."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EnergyCollectiveConfigEntry,
        collector: CollectorCoordinator,
        planner: PlannerCoordinator,
    ) -> None:
        """Trade for the home of `entry` with the rules of its market options."""
        super().__init__(
            hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} market", update_interval=None
        )
        self.collector = collector
        self.planner = planner
        options = home_config(entry)
        self.home_id = str(options.get(CONF_MARKET_HOME_ID) or default_home_id(entry.title))
        gate_minutes = int(options.get(CONF_MARKET_GATE_MINUTES, DEFAULT_MARKET_GATE_MINUTES))
        self.market_config = MarketConfig(
            community=str(options[CONF_MARKET_COMMUNITY]),
            mechanism=options.get(CONF_MARKET_MECHANISM, DEFAULT_MARKET_MECHANISM),
            slot_s=planner.step_minutes * 60,
            gate_closure_s=gate_minutes * 60,
            horizon_slots=max(1, planner.horizon_hours * 60 // planner.step_minutes),
        )
        self.peer_names: dict[str, str] = {}
        self.peer_keys: dict[str, str] = {}
        for subentry in entry.subentries.values():
            if subentry.subentry_type == SUBENTRY_PEER:
                peer = str(subentry.data[CONF_PEER_HOME_ID])
                self.peer_names[peer] = subentry.title
                self.peer_keys[peer] = str(subentry.data[CONF_PEER_PUBLIC_KEY])
        self.store: Store[dict[str, Any]] = Store(
            hass, MARKET_STORE_VERSION, store_key(entry.entry_id, "market")
        )
        self.keypair: Keypair | None = None
        self._session: MarketSession | None = None
        self.participating = True
        self.totals = MarketTotals()
        self.last_price: float | None = None
        self.connected = False
        self.published: Counter[str] = Counter()
        self.sending = 0
        """Publications under way (waiting for the broker's acknowledgement)."""
        self._settled: set[int] = set()
        self._metered: dict[int, list[float]] = {}
        self._last_sample: tuple[float, float] | None = None
        self._placed: dict[int, OrderDraft] = {}
        self._positions: dict[int, Position] = {}
        self._connecting = False
        self._unsubscribe_mqtt: CALLBACK_TYPE | None = None
        self._mqtt_client: object | None = None
        self._visible: tuple[Any, ...] = ()
        self._heard: set[str] = set()
        """Peers alive at the last tick (or heard since)."""
        self._last_called: set[int] = set()
        self._republish_due = False
        """Slots whose orders had their last call."""

    @property
    def session(self) -> MarketSession:
        """The engine's market session (after `async_load`)."""
        if self._session is None:
            raise RuntimeError("the market agent is not loaded")
        return self._session

    @property
    def issue_mqtt(self) -> str:
        """Id of the repair issue raised while MQTT is missing."""
        return f"market_mqtt_{self.config_entry.entry_id}"

    # -- persistence ----------------------------------------------------------------------

    async def async_load(self) -> None:
        """Read the key pair, the totals and the ledger; make a key pair the first time."""
        stored = await self.store.async_load() or {}
        keypair: Keypair | None = None
        if stored.get("keypair"):
            try:
                keypair = Keypair.from_json(stored["keypair"])
            except (KeyError, ValueError) as err:
                _LOGGER.warning("The market key of %s is unreadable: %s", self.home_id, err)
        new_key = keypair is None
        if keypair is None:
            keypair = Keypair.generate()
        self.keypair = keypair
        self.participating = bool(stored.get("participating", True))
        totals = stored.get("totals") or {}
        self.totals = MarketTotals(**{k: float(totals.get(k, 0.0)) for k in asdict(MarketTotals())})
        self.last_price = stored.get("last_price")
        self._settled = {int(s) for s in stored.get("settled", [])}
        try:  # what was metered of recent slots: a restart inside a slot loses only the gap
            self._metered = {
                int(slot): [float(x) for x in row][:3]
                for slot, row in (stored.get("metered") or {}).items()
                if len(row) == 3
            }
        except (AttributeError, TypeError, ValueError):
            self._metered = {}
        try:
            ledger = Ledger.from_json(stored.get("ledger") or {})
        except (KeyError, TypeError, ValueError) as err:
            _LOGGER.warning("The market ledger of %s is unreadable: %s", self.home_id, err)
            ledger = Ledger()
        self._session = MarketSession(
            self.market_config,
            self.home_id,
            keypair,
            {},
            clock=lambda: dt_util.utcnow().timestamp(),
            ledger=ledger,
        )
        for peer, key in self.peer_keys.items():
            try:
                self._session.add_peer(peer, key)
            except ValueError as err:  # the subentry flow validates; a hand-edited file may not
                _LOGGER.warning("Peer %s of %s is not trusted: %s", peer, self.home_id, err)
        self._positions = self.positions()
        if self.adjust not in self.planner.adjusters:
            self.planner.adjusters.append(self.adjust)
        if new_key:
            await self.store.async_save(self._store_data())

    def _store_data(self) -> dict[str, Any]:
        assert self.keypair is not None
        return {
            "keypair": self.keypair.to_json(),
            "participating": self.participating,
            "totals": asdict(self.totals),
            "last_price": self.last_price,
            "settled": sorted(self._settled),
            "metered": {str(slot): row for slot, row in self._metered.items()},
            "ledger": self.session.ledger.to_json(),
        }

    @callback
    def async_save(self) -> None:
        """Persist soon (debounced)."""
        self.store.async_delay_save(self._store_data, MARKET_SAVE_DELAY_S)

    async def async_shutdown(self) -> None:
        """Persist at once when the home stops."""
        await super().async_shutdown()
        if self._session is not None:
            await self.store.async_save(self._store_data())

    # -- start and stop -------------------------------------------------------------------

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Tick, follow the plan and connect to MQTT (the adjuster is in since `async_load`)."""
        unsubs: list[CALLBACK_TYPE] = [
            async_track_time_interval(
                self.hass, self._async_tick, MARKET_TICK_INTERVAL, cancel_on_shutdown=True
            ),
            self.planner.async_add_listener(self._plan_updated),
        ]
        self._start_connect()

        @callback
        def _stop() -> None:
            for unsub in unsubs:
                unsub()
            if self.adjust in self.planner.adjusters:
                self.planner.adjusters.remove(self.adjust)
            self._disconnect()
            # trading may be off from now on: the issue comes back if it still applies
            ir.async_delete_issue(self.hass, DOMAIN, self.issue_mqtt)

        return _stop

    @callback
    def _disconnect(self) -> None:
        if self._unsubscribe_mqtt is not None:
            self._unsubscribe_mqtt()
            self._unsubscribe_mqtt = None
        self._mqtt_client = None
        self.connected = False

    def _mqtt_gone(self) -> bool:
        """Whether the MQTT integration was unloaded or reloaded since this home subscribed
        (a reloaded integration has a new client, without this home's subscription)."""
        data = self.hass.data.get(mqtt.DATA_MQTT)
        return (
            data is None
            or data.client is not self._mqtt_client
            or not self.hass.config_entries.async_loaded_entries(mqtt.DOMAIN)
        )

    @callback
    def _start_connect(self) -> None:
        if self.connected or self._connecting:
            return
        self._connecting = True
        self.config_entry.async_create_background_task(
            self.hass, self._async_connect(), f"{DOMAIN} market connect"
        )

    async def _async_connect(self) -> None:
        try:
            available = await mqtt.async_wait_for_mqtt_client(self.hass)
            if not available:
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    self.issue_mqtt,
                    is_fixable=False,
                    severity=ir.IssueSeverity.ERROR,
                    translation_key="market_mqtt_missing",
                    translation_placeholders={"home": self.config_entry.title},
                )
                return
            ir.async_delete_issue(self.hass, DOMAIN, self.issue_mqtt)
            self._unsubscribe_mqtt = await mqtt.async_subscribe(
                self.hass,
                subscription(self.market_config.community),
                self._message,
                qos=1,
                encoding=None,
            )
            self._mqtt_client = self.hass.data[mqtt.DATA_MQTT].client
            self.connected = True
        except HomeAssistantError as err:
            _LOGGER.warning("%s cannot reach the market yet: %s", self.home_id, err)
            return
        finally:
            self._connecting = False
        self._publish(self.session.tick())
        self._plan_updated()
        self._changed(force=True)

    # -- messages -------------------------------------------------------------------------

    @callback
    def _message(self, msg: ReceiveMessage) -> None:
        payload = msg.payload
        env = self.session.receive(payload if isinstance(payload, bytes | str) else bytes(payload))
        if env is not None and env.sender not in self._heard:
            # a peer that (re)joins missed the orders sent while it was away: send them again
            # at the next tick (once for all the peers heard until then)
            self._heard.add(env.sender)
            self._republish_due = True
        self._handle_events(self.session.pop_events())
        self._changed()

    @callback
    def _republish(self, slots: Iterable[int] | None = None) -> None:
        """Sign this home's open orders (of `slots`, or all) again: a newer order replaces the
        older one everywhere, and a peer that missed the first copy gets this one."""
        now_ms = self.session.now_ms()
        chosen = set(self._placed) if slots is None else set(slots) & set(self._placed)
        drafts = [self._placed[s] for s in sorted(chosen) if now_ms < self.session.gate_ms(s)]
        if drafts and self.participating and self.connected:
            self._publish(self.session.place_orders(drafts))

    @callback
    def _last_call(self) -> None:
        """Send each open order once more shortly before its gate, for peers that restarted."""
        now_ms = self.session.now_ms()
        lead_ms = LAST_CALL_HEARTBEATS * self.market_config.heartbeat_s * 1000
        due = [
            s
            for s in self._placed
            if s not in self._last_called and self.session.gate_ms(s) - lead_ms <= now_ms
        ]
        self._last_called |= set(due)
        self._republish(due)

    @callback
    def _publish(self, envelopes: Iterable[Envelope]) -> None:
        """Publish signed envelopes (heartbeats at QoS 0, everything else at QoS 1)."""
        items = list(envelopes)
        if not items:
            return
        if not self.connected:
            self.published["not_sent"] += len(items)
            return
        self.config_entry.async_create_task(
            self.hass, self._async_publish(items), f"{DOMAIN} market publish", eager_start=True
        )

    async def _async_publish(self, envelopes: list[Envelope]) -> None:
        self.sending += 1
        try:
            await self._async_send(envelopes)
        finally:
            self.sending -= 1

    async def _async_send(self, envelopes: list[Envelope]) -> None:
        for env in envelopes:
            try:
                await mqtt.async_publish(
                    self.hass,
                    env.topic,
                    env.encode(),
                    qos=0 if env.type == "heartbeat" else 1,
                    retain=False,
                )
            except HomeAssistantError as err:
                self.published["failed"] += 1
                _LOGGER.debug("%s could not publish a %s: %s", self.home_id, env.type, err)
            else:
                self.published[env.type] += 1

    # -- orders from the plan -------------------------------------------------------------

    @callback
    def _plan_updated(self) -> None:
        """Offer the new plan's surplus and bid its deficit for every open slot."""
        result = self.planner.data
        plan, problem = result.plan, result.problem
        if plan is None or problem is None or self._session is None:
            return
        session = self.session
        slot_s = self.market_config.slot_s
        hours = problem.step_hours
        last_slot = session.now_ms() / 1000 + MARKET_ORDER_HORIZON.total_seconds()
        open_slots = {s for s in session.open_slots() if s < last_slot}
        slots: list[int] = []
        surplus: list[float] = []
        deficit: list[float] = []
        marginal: list[float | None] = []
        retail: list[float] = []
        feed_in: list[float] = []
        for k, when in enumerate(plan.times()):
            slot = int(when.timestamp())
            if slot % slot_s or k >= problem.n_steps:
                continue
            if session.result(slot) is None:
                session.set_grid_prices(slot, problem.import_price[k], problem.export_price[k])
            if slot not in open_slots:
                continue
            slots.append(slot)
            surplus.append(plan.export_w[k] * hours / 1000.0)
            deficit.append(plan.import_w[k] * hours / 1000.0)
            marginal.append(plan.marginal_price[k] if plan.marginal_price is not None else None)
            retail.append(problem.import_price[k])
            feed_in.append(problem.export_price[k])
        if not self.participating or not self.connected:
            return
        drafts = orders_from_plan(slots, surplus, deficit, marginal, retail, feed_in)
        self._place(drafts, set(slots))

    @callback
    def _place(self, drafts: list[OrderDraft], planned: set[int]) -> None:
        """Send the orders that changed; withdraw those the plan no longer has."""
        session = self.session
        now_ms = session.now_ms()
        wanted = {d.slot: d for d in drafts}
        changed = [d for d in drafts if _material(self._placed.get(d.slot), d)]
        out = session.place_orders(changed)
        for draft in changed:
            self._placed[draft.slot] = draft
        for slot in [s for s in self._placed if s in planned and s not in wanted]:
            if now_ms < session.gate_ms(slot) and (env := session.withdraw(slot)) is not None:
                out.append(env)
            del self._placed[slot]
        for slot in [s for s in self._placed if now_ms >= session.gate_ms(s)]:
            del self._placed[slot]
        self._publish(out)

    async def async_set_participating(self, on: bool) -> None:
        """Take part in the market, or withdraw every open order and stop placing new ones."""
        self.participating = on
        self.async_save()
        if on:
            self._plan_updated()
        else:
            session = self.session
            now_ms = session.now_ms()
            out = [
                env
                for slot in sorted(self._placed)
                if now_ms < session.gate_ms(slot) and (env := session.withdraw(slot)) is not None
            ]
            self._placed.clear()
            self._publish(out)
        self._changed(force=True)

    # -- trades into the planner ----------------------------------------------------------

    def positions(self) -> dict[int, Position]:
        """This home's cleared trades per slot (from the ledger, so they survive a restart)."""
        ledger = self.session.ledger
        return positions_of((t for s in ledger.slots for t in ledger.trades(s)), self.home_id)

    def adjust(self, problem: Problem, now: datetime) -> Problem:
        """Planner adjuster: cleared sales as extra load, purchases as extra supply."""
        if self._session is None:
            return problem
        return apply_positions(problem, self.positions())

    # -- the clock ------------------------------------------------------------------------

    async def _async_tick(self, _now: datetime) -> None:
        self.tick()

    @callback
    def tick(self) -> None:
        """Meter, clear what is due, report and settle finished slots, publish."""
        if self.connected and self._mqtt_gone():
            _LOGGER.info("%s lost its MQTT subscription; subscribing again", self.home_id)
            self._disconnect()
        if not self.connected:
            self._start_connect()
        session = self.session
        now_s = session.now_ms() / 1000
        self._sample(now_s)
        if self.connected:
            if self._republish_due:
                self._republish_due = False
                self._republish()
            self._last_call()
        out = session.tick() if self.connected else []
        for env in out:
            if env.type == "result" and env.payload["trades"] and env.payload["price"] is not None:
                self.last_price = micro_to_price(env.payload["price"])
        positions = self.positions()
        if positions != self._positions:
            self._positions = positions
            self.async_save()
            self.config_entry.async_create_task(
                self.hass, self.planner.async_request_refresh(), f"{DOMAIN} market re-plan"
            )
        out += self._deliver(now_s, positions)
        self._handle_events(session.pop_events())
        self._publish(out)
        session.prune(session.slot_of(now_s) - MARKET_KEEP_SLOTS * self.market_config.slot_s)
        now_ms = session.now_ms()
        self._heard = {p for p in self._heard if session.alive(p, now_ms)}
        self._placed = {s: d for s, d in self._placed.items() if now_ms < session.gate_ms(s)}
        self._last_called = {s for s in self._last_called if s in self._placed}
        self._changed()

    def _sample(self, now_s: float) -> None:
        """Integrate the grid power since the last sample into the slots it covered."""
        power = self.collector.grid_power_w(dt_util.utcnow())
        last = self._last_sample
        self._last_sample = None if power is None else (now_s, power)
        if last is None or power is None or not 0 < now_s - last[0] <= MAX_SAMPLE_GAP_S:
            return
        # the average of the two readings over the interval (trapezoid)
        mean = (last[1] + power) / 2
        slot_s = self.market_config.slot_s
        for slot, imported, exported in split_by_slot(last[0], now_s, mean, slot_s):
            row = self._metered.setdefault(slot, [0.0, 0.0, 0.0])  # import, export, seconds
            row[0] += imported
            row[1] += exported
            row[2] += min(now_s, slot + slot_s) - max(last[0], slot)

    def measured(self, slot: int) -> tuple[float, float]:
        """Import and export (kWh) measured in `slot`; a slot measured for at least half its
        length (Home Assistant restarted in it) is extrapolated at its measured mean power."""
        imported, exported, seconds = self._metered.get(slot, [0.0, 0.0, 0.0])
        slot_s = self.market_config.slot_s
        if slot_s / 2 <= seconds < slot_s:
            imported, exported = imported * slot_s / seconds, exported * slot_s / seconds
        return imported, exported

    def _deliver(self, now_s: float, positions: Mapping[int, Position]) -> list[Envelope]:
        """Report and settle every traded slot that has ended."""
        session = self.session
        slot_s = self.market_config.slot_s
        out: list[Envelope] = []
        for slot in sorted(positions):
            if slot + slot_s > now_s or slot in self._settled:
                continue
            imported, exported = self.measured(slot)
            out.append(session.report_delivery(slot, exported, imported))
            try:
                mine = session.settle(slot).get(self.home_id)
            except KeyError:
                _LOGGER.warning("No grid prices for slot %s: it is not settled", slot)
                mine = None
            self._settled.add(slot)
            if mine is not None:
                self.totals.sold_kwh += (mine.sold_wh - mine.shortfall_wh) / 1000
                self.totals.bought_kwh += (mine.bought_wh - mine.excess_wh) / 1000
                self.totals.revenue += nano_to_money(mine.received)
                self.totals.cost += nano_to_money(mine.paid)
            self.async_save()
        oldest = session.slot_of(now_s) - MARKET_KEEP_SLOTS * slot_s
        self._settled = {s for s in self._settled if s >= oldest}
        self._metered = {s: v for s, v in self._metered.items() if s >= oldest}
        return out

    # -- events and state -----------------------------------------------------------------

    def _handle_events(self, events: list[MarketEvent]) -> None:
        for event in events:
            name = self.peer_names.get(event.home_id, event.home_id)
            when = dt_util.as_local(dt_util.utc_from_timestamp(event.slot))
            if event.kind == "mismatch":
                _LOGGER.warning(
                    "%s and %s cleared the slot at %s differently (%s)",
                    self.home_id,
                    event.home_id,
                    when.isoformat(),
                    event.detail,
                )
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    f"market_mismatch_{self.config_entry.entry_id}_{event.home_id}",
                    is_fixable=False,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key="market_mismatch",
                    translation_placeholders={
                        "home": self.config_entry.title,
                        "peer": name,
                        "slot": when.strftime("%Y-%m-%d %H:%M"),
                    },
                )
            elif event.kind == "annulled":
                _LOGGER.warning(
                    "The order of %s for the slot at %s was annulled (%s): it dropped out",
                    name,
                    when.isoformat(),
                    event.detail,
                )
            else:
                _LOGGER.debug("%s: %s for %s from %s", event.kind, event.detail, when, name)

    def peers_online(self) -> list[str]:
        """Names of the peers heard from within the dropout time."""
        if self._session is None:
            return []
        now_ms = self.session.now_ms()
        return sorted(
            self.peer_names.get(peer, peer)
            for peer in self.session.verifier.peers
            if peer != self.home_id and self.session.alive(peer, now_ms)
        )

    def rejected(self) -> dict[str, int]:
        """Rejected messages by reason."""
        if self._session is None:
            return dict.fromkeys(REASONS, 0)
        counters = self.session.verifier.counters
        return {reason: int(counters[reason]) for reason in REASONS}

    @callback
    def _changed(self, force: bool = False) -> None:
        """Tell the entities when something they show has changed."""
        visible = (
            tuple(self.peers_online()),
            tuple(self.rejected().values()),
            self.last_price,
            tuple(asdict(self.totals).values()),
            self.participating,
        )
        if force or visible != self._visible:
            self._visible = visible
            self.async_update_listeners()

    def diagnostics(self) -> dict[str, Any]:
        """State for diagnostics: no private key."""
        out: dict[str, Any] = {
            "community": self.market_config.community,
            "mechanism": self.market_config.mechanism,
            "slot_s": self.market_config.slot_s,
            "gate_closure_s": self.market_config.gate_closure_s,
            "connected": self.connected,
            "participating": self.participating,
            "totals": asdict(self.totals),
            "last_price": self.last_price,
            "published": dict(self.published),
            "open_orders": {str(s): asdict(d) for s, d in sorted(self._placed.items())},
            "positions": {str(s): asdict(p) for s, p in sorted(self.positions().items())},
        }
        if self._session is not None:
            out["session"] = self.session.diagnostics()
        return out


def _material(old: OrderDraft | None, new: OrderDraft) -> bool:
    """Whether a new plan's order differs enough from the one in the market to send it."""
    if old is None or old.side != new.side:
        return True
    energy = abs(new.energy_wh - old.energy_wh) > max(MARKET_MIN_CHANGE_WH, old.energy_wh // 20)
    return energy or abs(new.price - old.price) > price_to_micro(MARKET_MIN_CHANGE_PRICE)
