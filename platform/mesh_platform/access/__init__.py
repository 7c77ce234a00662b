"""Who may read which port, and PII masking before a port is published."""
