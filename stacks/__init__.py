"""The TranscriptionPipeline CDK stack and the constructs it composes."""
