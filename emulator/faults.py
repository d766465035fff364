"""Switchable throttling and faults, seeded so a failing run can be repeated exactly."""
import random
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Faults:
    """Rate limit (429 + Retry-After), random 429/503/504, latency and dropped connections."""

    rate_limit: int = 0          # requests allowed per window per app; 0 = unlimited
    rate_window: float = 10.0    # seconds
    error_rates: dict = field(default_factory=dict)  # {"429": 0.05, "503": 0.02, "504": 0.01}
    latency_ms: int = 0
    latency_jitter_ms: int = 0   # each request waits latency_ms plus a random 0..jitter more
    drop_rate: float = 0.0
    retry_after: int = 1
    scope: str = "graph"         # "graph", "token" or "all"
    seed: int = 0
    _rng: random.Random = field(default_factory=lambda: random.Random(0))
    _windows: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, spec: dict) -> None:
        """Replace the settings (control API); the RNG is re-seeded so runs repeat."""
        with self._lock:
            self.rate_limit = int(spec.get("rate_limit", 0))
            self.rate_window = float(spec.get("rate_window", 10.0))
            self.error_rates = {str(k): float(v) for k, v in (spec.get("error_rates") or {}).items()}
            self.latency_ms = int(spec.get("latency_ms", 0))
            self.latency_jitter_ms = int(spec.get("latency_jitter_ms", 0))
            self.drop_rate = float(spec.get("drop_rate", 0.0))
            self.retry_after = int(spec.get("retry_after", 1))
            self.scope = spec.get("scope", "graph")
            self.seed = int(spec.get("seed", 0))
            self._rng = random.Random(self.seed)
            self._windows.clear()

    def describe(self) -> dict:
        return {"rate_limit": self.rate_limit, "rate_window": self.rate_window, "error_rates": self.error_rates,
                "latency_ms": self.latency_ms, "latency_jitter_ms": self.latency_jitter_ms, "drop_rate": self.drop_rate, "retry_after": self.retry_after,
                "scope": self.scope, "seed": self.seed}

    def applies_to(self, kind: str) -> bool:
        return self.scope == "all" or self.scope == kind

    def decide(self, client_key: str) -> tuple[str, int]:
        """Return ("ok"|"throttle"|"error"|"drop", detail) for one request."""
        with self._lock:
            verdict = self._rate_verdict(client_key) or self._random_verdict()
            wait = self.latency_ms + (self._rng.uniform(0, self.latency_jitter_ms) if self.latency_jitter_ms else 0)
        if wait:
            time.sleep(wait / 1000.0)
        return verdict

    def _rate_verdict(self, client_key: str):
        if not self.rate_limit:
            return None
        now = time.monotonic()
        start, count = self._windows.get(client_key, (now, 0))
        if now - start >= self.rate_window:
            start, count = now, 0
        count += 1
        self._windows[client_key] = (start, count)
        if count > self.rate_limit:
            return "throttle", max(1, int(self.rate_window - (now - start)) + 1)
        return None

    def _random_verdict(self):
        if self.drop_rate and self._rng.random() < self.drop_rate:
            return "drop", 0
        for status, rate in sorted(self.error_rates.items()):
            if self._rng.random() < rate:
                return ("throttle", self.retry_after) if status == "429" else ("error", int(status))
        return "ok", 0


@dataclass
class NotificationFaults:
    """Change notification faults: drop, duplicate, delay and reorder, seeded so a run repeats exactly."""

    drop_rate: float = 0.0        # a notification is never delivered
    duplicate_rate: float = 0.0   # a POST is delivered twice (Graph delivers at least once)
    delay_ms: int = 0             # every POST waits this long, plus a random 0..delay_jitter_ms more
    delay_jitter_ms: int = 0
    reorder_rate: float = 0.0     # a POST's notifications are shuffled
    seed: int = 0
    _rng: random.Random = field(default_factory=lambda: random.Random(0))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, spec: dict) -> None:
        """Replace the settings; the RNG is re-seeded so runs repeat."""
        with self._lock:
            self.drop_rate = float(spec.get("drop_rate", 0.0))
            self.duplicate_rate = float(spec.get("duplicate_rate", 0.0))
            self.delay_ms = int(spec.get("delay_ms", 0))
            self.delay_jitter_ms = int(spec.get("delay_jitter_ms", 0))
            self.reorder_rate = float(spec.get("reorder_rate", 0.0))
            self.seed = int(spec.get("seed", 0))
            self._rng = random.Random(self.seed)

    def describe(self) -> dict:
        return {"drop_rate": self.drop_rate, "duplicate_rate": self.duplicate_rate, "delay_ms": self.delay_ms,
                "delay_jitter_ms": self.delay_jitter_ms, "reorder_rate": self.reorder_rate, "seed": self.seed}

    def shape(self, notifications: list) -> tuple[list, int, float]:
        """Apply the faults to one POST: (what is sent, how many times, seconds to wait first)."""
        with self._lock:
            kept = [n for n in notifications if not (self.drop_rate and self._rng.random() < self.drop_rate)]
            if len(kept) > 1 and self.reorder_rate and self._rng.random() < self.reorder_rate:
                self._rng.shuffle(kept)
            copies = 2 if self.duplicate_rate and self._rng.random() < self.duplicate_rate else 1
            jitter = self._rng.uniform(0, self.delay_jitter_ms) if self.delay_jitter_ms else 0
        return kept, copies, (self.delay_ms + jitter) / 1000.0
