"""HTTP layer: blueprints that decode, call a service, and respond."""
