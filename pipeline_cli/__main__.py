"""``python -m pipeline_cli``: the same tool as the ``transcribe-pipeline`` console script."""

from pipeline_cli.cli import main

main()
