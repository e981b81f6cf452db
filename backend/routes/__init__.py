"""HTTP routes, one module per resource; `backend.main` assembles them."""
