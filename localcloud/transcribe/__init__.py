"""Amazon Transcribe for the local cloud: moto's API shapes, a real engine behind them.

`install()` puts `TranscribeService` behind moto's Transcribe API; the service behaves like
the real one (the AWS facts it follows: docs/transcribe-api.md). Where each behaviour lives:

* `moto_api`: `install()` and `shutdown()`, the patched moto operations;
* `service`: the four batch operations and the order of StartTranscriptionJob's checks,
  including its rate quota;
* `validation`: the request checks of the real API, in its wording;
* `jobs`: job records, the QUEUED → IN_PROGRESS → COMPLETED/FAILED state machine, the job
  quotas, the listing;
* `engine`: the worker pool, and what a worker does with a job;
* `recognizer`: the seam to speech recognition (`open_recognizer`);
* `results`: ``<job>.json`` and subtitles written to S3;
* `events`: the "Transcribe Job State Change" event of each terminal state;
* `s3`: moto's S3 backend as the service uses it;
* `errors`, `options`: the API's errors, the service's settings.
"""

from localcloud.transcribe.moto_api import install, service, shutdown
from localcloud.transcribe.options import TranscribeOptions
from localcloud.transcribe.service import TranscribeService

__all__ = ["TranscribeOptions", "TranscribeService", "install", "service", "shutdown"]
