"""Acceptance run: deploy a throw-away pipeline, transcribe a hostile corpus, check, destroy.

``make aws-acceptance`` runs it against the AWS account of the caller's credentials;
``tests/e2e/test_acceptance_local.py`` runs the same code against the local cloud.
"""
