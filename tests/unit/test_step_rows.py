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


def test_focus_and_message_follow_the_moved_step():
    assert step_rows.after(["name"], 1, [A]) == {}
    assert step_rows.after(["add_step"], 1, [A, B]) == {"focus": "step_1_integration", "message": "Step 2 added."}
    assert step_rows.after(["step_2_up"], 3, [A, C, B]) == {"focus": "step-1-up",
                                                            "message": "Step 3 moved up: it is now step 2."}
    assert step_rows.after(["step_1_up"], 3, [B, A, C])["focus"] == "step-0-down"  # no Up on the first step
    assert step_rows.after(["step_0_down"], 2, [B, A])["focus"] == "step-1-up"  # no Down on the last step
    assert step_rows.after(["step_2_remove"], 3, [A, B]) == {"focus": "step_1_integration",
                                                             "message": "Step 3 removed."}
    assert step_rows.after(["step_0_up"], 2, [A, B]) == {}  # nothing moved
    full = [A] * step_rows.MAX_STEPS
    assert "at most" in step_rows.after(["add_step"], step_rows.MAX_STEPS, full)["message"]
