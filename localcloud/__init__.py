"""Local cloud: an offline, AWS-compatible endpoint built on moto, for this pipeline."""
