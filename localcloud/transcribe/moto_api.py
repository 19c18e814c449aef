"""Installing the local Transcribe into moto: its batch operations answered by the service.

moto 5.2.5's Transcribe (``moto/transcribe``) advances a job one state per
GetTranscriptionJob call, validates nothing, writes nothing and emits no event, and has no
vocabulary filters or language models. `install()` replaces the four batch operations of its
HTTP layer (``TranscribeResponse.start_/get_/list_/delete_transcription_job``) with
`TranscribeService` and adds the vocabulary filter and language model operations
(``create_/get_/list_/delete_vocabulary_filter``, ``create_/describe_/list_/
delete_language_model``); `shutdown()` restores moto's class as it was.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from localcloud.transcribe.errors import BadRequestError
from localcloud.transcribe.options import TranscribeOptions
from localcloud.transcribe.service import TranscribeService

LOG = logging.getLogger(__name__)


class _Installed:
    """The process-wide installation: the running service and moto's replaced methods."""

    def __init__(self) -> None:
        self.service: TranscribeService | None = None
        self.originals: dict[str, Any] = {}
        self.added: set[str] = set()
        self.lock = threading.Lock()


_installed = _Installed()


def _require_service() -> TranscribeService:
    current = _installed.service
    if current is None:
        raise RuntimeError("the local Transcribe service is not installed")
    return current


def _params(response: Any) -> dict[str, Any]:
    body = response.body
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    parsed = json.loads(body) if body else {}
    if not isinstance(parsed, dict):
        raise BadRequestError("The request body must be a JSON object.")
    return parsed


def _start_transcription_job(self: Any) -> Any:
    from moto.core.responses import ActionResult

    return ActionResult(
        _require_service().start_job(self.current_account, self.region, _params(self))
    )


def _get_transcription_job(self: Any) -> Any:
    from moto.core.responses import ActionResult

    name = _params(self).get("TranscriptionJobName", "")
    return ActionResult(_require_service().get_job(self.current_account, self.region, name))


def _list_transcription_jobs(self: Any) -> Any:
    from moto.core.responses import ActionResult

    p = _params(self)
    return ActionResult(
        _require_service().list_jobs(
            self.current_account,
            self.region,
            status=p.get("Status"),
            name_contains=p.get("JobNameContains"),
            next_token=p.get("NextToken"),
            max_results=p.get("MaxResults"),
        )
    )


def _delete_transcription_job(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    name = _params(self).get("TranscriptionJobName", "")
    _require_service().delete_job(self.current_account, self.region, name)
    return EmptyResult()


def _result(call: Callable[[TranscribeService, str, str, dict[str, Any]], Any]) -> Any:
    """A moto operation answering with `call(service, account, region, params)`."""

    def operation(self: Any) -> Any:
        from moto.core.responses import ActionResult, EmptyResult

        answer = call(_require_service(), self.current_account, self.region, _params(self))
        return EmptyResult() if answer is None else ActionResult(answer)

    return operation


_PATCHES: dict[str, Callable[[Any], Any]] = {
    "start_transcription_job": _start_transcription_job,
    "get_transcription_job": _get_transcription_job,
    "list_transcription_jobs": _list_transcription_jobs,
    "delete_transcription_job": _delete_transcription_job,
}
# Operations moto 5.2.5 does not define at all: added by install(), removed by shutdown().
_ADDED: dict[str, Callable[[Any], Any]] = {
    "create_vocabulary_filter": _result(lambda s, a, r, p: s.create_vocabulary_filter(a, r, p)),
    "get_vocabulary_filter": _result(
        lambda s, a, r, p: s.get_vocabulary_filter(a, r, p.get("VocabularyFilterName", ""))
    ),
    "list_vocabulary_filters": _result(lambda s, a, r, p: s.list_vocabulary_filters(a, r, p)),
    "delete_vocabulary_filter": _result(
        lambda s, a, r, p: s.delete_vocabulary_filter(a, r, p.get("VocabularyFilterName", ""))
    ),
    "create_language_model": _result(lambda s, a, r, p: s.create_language_model(a, r, p)),
    "describe_language_model": _result(
        lambda s, a, r, p: s.describe_language_model(a, r, p.get("ModelName", ""))
    ),
    "list_language_models": _result(lambda s, a, r, p: s.list_language_models(a, r, p)),
    "delete_language_model": _result(
        lambda s, a, r, p: s.delete_language_model(a, r, p.get("ModelName", ""))
    ),
}


def install(
    options: TranscribeOptions | None = None, *, endpoint_url: str | None = None
) -> TranscribeService:
    """Patch moto's Transcribe API with the local engine and start its workers.

    Calling it again replaces the running service (its jobs are forgotten). `endpoint_url`
    (passed by the local cloud's server) overrides `options.endpoint_url`.
    """
    from moto.transcribe.responses import TranscribeResponse

    opts = options or TranscribeOptions()
    if endpoint_url:
        opts = replace(opts, endpoint_url=endpoint_url)
    with _installed.lock:
        if _installed.service is not None:
            _installed.service.shutdown()
        for name, patch in _PATCHES.items():
            # moto 5.2.5 defines each of these on TranscribeResponse itself; fail loudly if
            # an upgrade moves them (KeyError) rather than patch nothing.
            _installed.originals.setdefault(name, TranscribeResponse.__dict__[name])
            setattr(TranscribeResponse, name, patch)
        for name, added in _ADDED.items():
            # Fail loudly if an upgrade of moto starts serving one of these itself.
            if name in TranscribeResponse.__dict__ and name not in _installed.added:
                raise RuntimeError(f"moto now defines TranscribeResponse.{name}: review _ADDED")
            setattr(TranscribeResponse, name, added)
            _installed.added.add(name)
        service = TranscribeService(opts)
        service.start()
        _installed.service = service
    LOG.info("local Transcribe installed (%d workers, %s)", opts.concurrency, opts.isolation)
    return service


def shutdown() -> None:
    """Stop the workers and restore moto's own Transcribe operations."""
    from moto.transcribe.responses import TranscribeResponse

    with _installed.lock:
        if _installed.service is not None:
            _installed.service.shutdown()
            _installed.service = None
        for name, original in _installed.originals.items():
            setattr(TranscribeResponse, name, original)
        _installed.originals.clear()
        for name in _installed.added:
            delattr(TranscribeResponse, name)
        _installed.added.clear()


def service() -> TranscribeService | None:
    """The installed service, if any."""
    return _installed.service
