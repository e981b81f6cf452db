"""Control plane: the FastAPI app, routes, deps, auth and services (the kernel is `core`)."""
