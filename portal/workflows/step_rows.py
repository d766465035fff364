"""The workflow editor's App Integration step rows: read from the posted form (or the stored workflow), and added,
moved or removed one at a time by the editor's buttons, without JavaScript and without saving."""
import re
from collections.abc import Mapping

MAX_STEPS = 10
LEGACY_ROWS = 3  # a form posted without step_count (older pages, scripts) had three fixed rows
COMMAND = re.compile(r"^(add_step|step_(\d{1,2})_(up|down|remove))$")


def rows_from(form: Mapping, stored: list) -> list[dict]:
    """The rows the admin is editing: the posted ones, else the workflow's action steps, else one empty row."""
    if form.get("name") is not None:  # a POST from the editor
        count = _step_count(form.get("step_count"))
        return [{"integration_id": form.get(f"step_{i}_integration") or None, "action": form.get(f"step_{i}_action"),
                 "target": form.get(f"step_{i}_target")} for i in range(count)]
    rows = [{"integration_id": s.integration_id, "action": s.action, "target": s.target} for s in stored]
    return rows or [empty()]


def empty() -> dict:
    """A row with nothing chosen yet."""
    return {"integration_id": None, "action": None, "target": None}


def rearranged(rows: list[dict], pressed: list[str]) -> list[dict] | None:
    """The rows after the button the admin pressed (Add step, Move up or down, Remove), or None for Save."""
    match = next((m for m in map(COMMAND.match, pressed) if m), None)
    if match is None:
        return None
    rows = list(rows)
    if match.group(1) == "add_step":
        return rows + [empty()] if len(rows) < MAX_STEPS else rows
    index, verb = int(match.group(2)), match.group(3)
    if not 0 <= index < len(rows):
        return rows
    if verb == "remove":
        return (rows[:index] + rows[index + 1:]) or [empty()]
    other = index - 1 if verb == "up" else index + 1
    if 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]
    return rows


def _step_count(value) -> int:
    try:
        return max(1, min(int(value), MAX_STEPS))
    except (TypeError, ValueError):
        return LEGACY_ROWS


def after(pressed: list[str], before: int, rows: list[dict]) -> dict:
    """Where focus lands after a step button, and what changed, so keyboard users keep their place across reloads."""
    match = next((m for m in map(COMMAND.match, pressed) if m), None)
    if match is None:
        return {}
    last = len(rows) - 1
    if match.group(1) == "add_step":
        if len(rows) == before:
            return {"focus": f"step_{last}_integration",
                    "message": f"A workflow has at most {MAX_STEPS} steps."}
        return {"focus": f"step_{last}_integration", "message": f"Step {last + 1} added."}
    index, verb = int(match.group(2)), match.group(3)
    if verb == "remove":
        return {"focus": f"step_{min(index, last)}_integration", "message": f"Step {index + 1} removed."}
    new = index - 1 if verb == "up" else index + 1
    if not 0 <= new <= last or index > last:
        return {}
    button = verb if (new > 0 if verb == "up" else new < last) else ("down" if verb == "up" else "up")
    return {"focus": f"step-{new}-{button}", "message": f"Step {index + 1} moved {verb}: it is now step {new + 1}."}
