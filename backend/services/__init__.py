"""Business logic: what the routes ask of the database, scoped by the session they pass."""
