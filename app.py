#!/usr/bin/env python3
"""CDK entry point: reads configuration from context and builds the TranscriptionPipeline."""

from __future__ import annotations

import sys

import aws_cdk as cdk

from stacks.config import ConfigError, PipelineConfig
from stacks.pipeline_stack import PipelineStack

STACK_NAME = "TranscriptionPipeline"


def build_app(app: cdk.App | None = None) -> cdk.App:
    """Build the app (tests call this with their own context)."""
    app = app or cdk.App()
    config = PipelineConfig.from_context(app.node.try_get_context)
    PipelineStack(
        app,
        STACK_NAME,
        config=config,
        description="Media transcription pipeline: S3 uploads -> Amazon Transcribe -> transcripts",
    )
    return app


def main() -> None:
    """Synthesize, turning a configuration error into one clear line and exit status 1."""
    try:
        app = build_app()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    app.synth()


if __name__ == "__main__":
    main()
