"""Output ports: write-audit-publish of snapshots and pinned reads."""
