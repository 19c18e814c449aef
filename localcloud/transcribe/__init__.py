"""Amazon Transcribe for the local cloud (see `service`)."""

from localcloud.transcribe.service import (
    TranscribeOptions,
    TranscribeService,
    install,
    service,
    shutdown,
)

__all__ = ["TranscribeOptions", "TranscribeService", "install", "service", "shutdown"]
