"""The fault suite: outages of the database, Redis, the engine and the API, with real parts."""
