"""The event bus: events from the serving API through a message broker to the landing zone."""
