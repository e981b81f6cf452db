"""Control plane: the FastAPI app, auth, services, domain models and migrations."""
