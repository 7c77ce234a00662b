"""The retail demo mesh's own code: its deterministic data generator."""
