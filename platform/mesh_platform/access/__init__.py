"""Who may read which port, PII masking before a port is published, and the API tokens."""
