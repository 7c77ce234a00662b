"""Real-time ranked predictions served from the port a product's ``serving:`` block names."""
