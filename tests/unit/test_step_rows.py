"""The workflow editor's step rows: what Add step, Up, Down and Remove do, at the edges too."""
from portal.workflows import step_rows

A, B, C = ({"integration_id": "1", "action": x, "target": "requester"} for x in ("unlock", "disable", "reset"))


def test_commands():
    assert step_rows.rearranged([A], ["csrf_token", "name"]) is None  # Save
    assert step_rows.rearranged([A], ["add_step"]) == [A, step_rows.empty()]
    assert step_rows.rearranged([A, B, C], ["step_2_up"]) == [A, C, B]
    assert step_rows.rearranged([A, B, C], ["step_0_down"]) == [B, A, C]
    assert step_rows.rearranged([A, B, C], ["step_1_remove"]) == [A, C]


def test_edges_change_nothing_or_keep_one_row():
    assert step_rows.rearranged([A, B], ["step_0_up"]) == [A, B]
    assert step_rows.rearranged([A, B], ["step_1_down"]) == [A, B]
    assert step_rows.rearranged([A, B], ["step_7_remove"]) == [A, B]
    assert step_rows.rearranged([A], ["step_0_remove"]) == [step_rows.empty()]
    full = [A] * step_rows.MAX_STEPS
    assert step_rows.rearranged(full, ["add_step"]) == full


def test_rows_from_a_post_and_from_storage():
    form = {"name": "x", "step_count": "2", "step_0_action": "unlock", "step_1_integration": "3"}
    assert step_rows.rows_from(form, []) == [
        {"integration_id": None, "action": "unlock", "target": None},
        {"integration_id": "3", "action": None, "target": None}]
    assert len(step_rows.rows_from({"name": "x"}, [])) == step_rows.LEGACY_ROWS  # posted without a count
    assert len(step_rows.rows_from({"name": "x", "step_count": "999"}, [])) == step_rows.MAX_STEPS
    assert step_rows.rows_from({}, []) == [step_rows.empty()]
