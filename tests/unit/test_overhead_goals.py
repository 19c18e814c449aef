"""The pipeline-overhead benchmark's arithmetic: stage medians, goals met or missed, the report."""

from __future__ import annotations

from benchmarks import report
from benchmarks.pipeline_overhead import GOALS, STAGES, goals, stage_medians


def _row(clip: str, added: float, ratio: float) -> dict[str, object]:
    return {"clip": clip, "added_s": added, "ratio": ratio, "stages_median_s": {}}


def test_stage_medians_take_each_stage_between_its_two_moments() -> None:
    moments = [
        {"began": 0.0, "uploaded": 0.1, "start_fn_start": 0.3},
        {"began": 10.0, "uploaded": 10.3, "start_fn_start": 10.4},
        {"began": 20.0, "uploaded": 20.2},
    ]

    medians = stage_medians(moments)

    assert list(medians) == [name for name, _, _ in STAGES]
    assert medians["upload (client PutObject)"] == 0.2
    assert medians["S3 → EventBridge → SQS → start function invoked"] == 0.15
    assert medians["harvest function"] is None


def test_goals_say_which_are_met_and_which_missed() -> None:
    rows = [_row("1s", GOALS["fixed_overhead_s"] - 0.1, 1.2), _row("10s", 0.5, 1.5)]

    found = goals(rows, {"share_of_bare": 0.85})

    assert found["fixed_overhead_s"]["met"] is True
    assert found["ratio_10s"] == {"value": 1.5, "goal": GOALS["ratio_10s"], "met": False}
    assert found["throughput_share"]["met"] is True


def test_report_shows_each_goal_with_its_verdict_and_the_stage_table() -> None:
    rows = [_row("1s", 0.2, 1.2)]
    rows[0]["stages_median_s"] = {"harvest function": 0.08}
    local = {"overhead": rows, "overhead_goals": goals([*rows, _row("10s", 2.0, 1.9)], None)}

    text = "\n".join(report._overhead_section(local))

    assert "| 0.2 s | ≤ 0.4 s | met |" in text
    assert "| 1.9× | ≤ 1.3× | **missed** |" in text
    assert "| harvest function | 0.080 |" in text
