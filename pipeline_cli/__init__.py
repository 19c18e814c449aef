"""``transcribe-pipeline``: operate a deployed transcription pipeline from the command line."""
