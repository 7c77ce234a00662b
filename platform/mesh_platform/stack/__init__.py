"""The distributed profile's services, started on free loopback ports and stopped together."""
