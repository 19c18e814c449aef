"""The ledger commands README.md shows, each run against moto: the manual stays true."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.cli.support import PREFIX, run
from transcribe_pipeline import environment as names

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"<!-- ledger-commands -->\n```bash\n(.*?)```", re.DOTALL)


def readme_commands() -> list[list[str]]:
    """The commands of README's ledger block, without the program name and comments."""
    found = BLOCK.search(README.read_text(encoding="utf-8"))
    assert found, "README.md has no ledger-commands block"
    commands = [shlex.split(line, comments=True) for line in found.group(1).splitlines()]
    return [words[1:] for words in commands if words and words[0] == "transcribe-pipeline"]


def test_the_readme_shows_each_ledger_command():
    shown = {words[0] for words in readme_commands()}

    assert shown == {"status", "list", "reprocess", "costs", "forget"}


def test_every_ledger_command_in_the_readme_runs_as_shown(fake_pipeline):
    fake_pipeline.deploy_job_state_function(
        {
            names.INPUT_BUCKET: fake_pipeline.input_bucket,
            names.OUTPUT_BUCKET: fake_pipeline.output_bucket,
            names.JOB_NAME_PREFIX: PREFIX,
            names.LANGUAGE_CODE: "en-US",
            names.SUBTITLE_FORMATS: "srt,vtt",
        }
    )
    talk = fake_pipeline.put_input("talks/my talk.mp3")
    fake_pipeline.start_job(talk)
    fake_pipeline.transcribe_done(talk)
    fake_pipeline.fail(fake_pipeline.put_input("talks/other.mp3"), "Internal failure.")

    for words in readme_commands():
        result = run(*words)

        assert result.exit_code == 0, f"{shlex.join(words)}: {result.output}"
