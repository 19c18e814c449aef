"""cfn-lint finds no errors and no warnings beyond the reviewed ignores in .cfnlintrc.yaml."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from aws_cdk.assertions import Template

from tests.infra.conftest import ROOT


def test_cfn_lint_passes_on_the_synthesized_template(template: Template, tmp_path):
    path = tmp_path / "TranscriptionPipeline.template.json"
    path.write_text(json.dumps(template.to_json()))

    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--config-file",
            str(ROOT / ".cfnlintrc.yaml"),
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
