"""Recorded sign-in events, kept apart from Flask so state.py can own them: capped, persisted, visible after a delay."""
import json
import threading
import time
from collections import deque
from pathlib import Path

MAX_EVENTS = 10_000
FILE_NAME = "sign-ins.jsonl"


class SignInStore:
    """Every recorded event, oldest first: {"seq", "recorded", "created", "tenant", "signIn": Graph JSON}.

    Events are appended to `sign-ins.jsonl` in the state dir as they happen and read back at start-up, so a restart
    with the same state dir (and seed) keeps the log; the file is rewritten once it holds twice the cap.
    """

    def __init__(self, limit: int = MAX_EVENTS):
        self.limit = limit
        self.delay_seconds = 0.0  # how long a new event stays invisible to Graph (Entra's logs lag)
        self._events: deque = deque(maxlen=limit)
        self._seq = 0
        self._path: Path | None = None
        self._lines = 0
        self._lock = threading.Lock()

    def attach(self, directory: Path) -> None:
        """Load what a previous run left in `directory`, then keep appending there."""
        path = Path(directory) / FILE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._path = path
            if path.exists():
                for line in path.read_text(encoding="utf-8").splitlines()[-self.limit:]:
                    try:
                        self._events.append(json.loads(line))
                    except ValueError:
                        continue  # a line cut short by a crash
                self._seq = max((e["seq"] for e in self._events), default=0)
            self._rewrite()

    def add(self, tenant_id: str, created: float, sign_in: dict) -> dict:
        """Record one event (the oldest is dropped beyond the cap)."""
        with self._lock:
            self._seq += 1
            event = {"seq": self._seq, "recorded": time.time(), "created": created, "tenant": tenant_id,
                     "signIn": sign_in}
            self._events.append(event)
            if self._path is not None:
                with self._path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(event, ensure_ascii=False) + "\n")
                self._lines += 1
                if self._lines > 2 * self.limit:
                    self._rewrite()
        return event

    def _rewrite(self) -> None:
        if self._path is None:
            return
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in self._events), encoding="utf-8")
        tmp.replace(self._path)
        self._lines = len(self._events)

    def clear(self, tenant_id: str | None = None) -> int:
        """Forget every event (of one tenant, if given); returns how many were dropped."""
        with self._lock:
            keep = [e for e in self._events if tenant_id is not None and e["tenant"] != tenant_id]
            dropped = len(self._events) - len(keep)
            self._events = deque(keep, maxlen=self.limit)
            self._rewrite()
        return dropped

    def newest_first(self, tenant_id: str, *, visible_only: bool = True) -> list[dict]:
        """A tenant's events by createdDateTime, newest first; those still inside the delay are left out."""
        cutoff = time.time() - self.delay_seconds
        with self._lock:
            found = [e for e in self._events if e["tenant"] == tenant_id and (not visible_only or e["recorded"] <= cutoff)]
        found.sort(key=lambda e: (e["created"], e["seq"]), reverse=True)
        return found
