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
