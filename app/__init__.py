"""The workbench: a Reflex web UI over the REST client (`client`); never the database."""
