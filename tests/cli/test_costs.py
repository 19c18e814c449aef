"""``costs``: billed seconds (whole seconds, at least 15 per job) times the price, per prefix."""

from __future__ import annotations

import json

import pytest

from pipeline_cli import pricing
from tests.cli.support import run
from transcribe_pipeline.ledger_schema import State


@pytest.mark.parametrize(
    ("audio", "billed"), [(0.4, 15), (14.99, 15), (15.0, 15), (15.2, 16), (61.0, 61)]
)
def test_a_job_is_billed_whole_seconds_and_at_least_fifteen(audio, billed):
    assert pricing.billed_seconds(audio) == billed


def test_the_price_per_second_is_the_per_minute_list_price_over_sixty():
    assert pytest.approx(0.024) == pricing.USD_PER_SECOND * 60


def _transcribed(pipeline, key, duration, finished, profile=""):
    attributes = {"finished_at": finished, "profile": profile, "job": "tp-x"}
    if duration is not None:
        attributes["duration_s"] = duration
    pipeline.record(pipeline.put_input(key), State.TRANSCRIBED, **attributes)


def test_costs_sum_billed_seconds_per_folder_and_month(fake_pipeline):
    _transcribed(fake_pipeline, "talks/short.mp3", 3.2, "2026-10-05T09:00:00+00:00")
    _transcribed(fake_pipeline, "talks/long.mp3", 61.4, "2026-10-20T09:00:00+00:00")
    _transcribed(fake_pipeline, "talks/later.mp3", 120.0, "2026-11-01T00:00:01+00:00")
    _transcribed(fake_pipeline, "top.mp3", 30.0, "2026-10-07T09:00:00+00:00")
    fake_pipeline.fail(
        fake_pipeline.put_input("talks/bad.mp3"), "The media file could not be decoded."
    )

    result = run("costs", "--json")

    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    lines = {(line["month"], line["prefix"]): line for line in found["lines"]}
    october = lines[("2026-10", "talks/")]
    assert (october["jobs"], october["billed_seconds"]) == (2, 15 + 62)
    assert october["audio_seconds"] == pytest.approx(64.6)
    assert october["usd"] == pytest.approx(77 * 0.024 / 60)
    assert lines[("2026-10", "")]["billed_seconds"] == 30
    assert lines[("2026-11", "talks/")]["billed_seconds"] == 120
    # The failed job is counted where it finished (the test double's time), never priced.
    assert lines[("2026-11", "talks/")]["failed_jobs"] == 1
    assert found["total_usd"] == pytest.approx((77 + 30 + 120) * 0.024 / 60)
    assert found["minimum_billed_seconds"] == 15
    assert found["pricing_page"] == pricing.PRICING_PAGE


def test_costs_count_a_job_without_duration_at_the_minimum(fake_pipeline):
    _transcribed(fake_pipeline, "a/x.mp3", None, "2026-10-05T09:00:00+00:00")

    [line] = json.loads(run("costs", "--json").stdout)["lines"]

    assert (line["billed_seconds"], line["unknown_durations"]) == (15, 1)


def test_costs_group_by_profile_and_filter_by_prefix(fake_pipeline):
    when = "2026-10-05T09:00:00+00:00"
    _transcribed(fake_pipeline, "talks/de/a.mp3", 20.0, when, profile="talks/de/")
    _transcribed(fake_pipeline, "talks/en/b.mp3", 40.0, when, profile="")
    _transcribed(fake_pipeline, "other/c.mp3", 50.0, when, profile="")

    found = json.loads(run("costs", "--json", "--by", "profile", "--prefix", "talks/").stdout)

    assert {line["prefix"]: line["billed_seconds"] for line in found["lines"]} == {
        "talks/de/": 20,
        "": 40,
    }


def test_costs_prints_a_table_and_the_total(fake_pipeline):
    _transcribed(fake_pipeline, "talks/a.mp3", 60.0, "2026-10-05T09:00:00+00:00")

    result = run("costs")

    assert result.exit_code == 0, result.output
    assert "talks/" in result.stdout
    assert "Total: USD 0.0240" in result.stdout
