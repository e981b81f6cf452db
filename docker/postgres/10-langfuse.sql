-- The LangFuse overlay keeps its data in its own database on the same Postgres.
CREATE DATABASE langfuse;
