"""The shared kernel of both planes: domain models, db and tenant scope, event log, object store,
observability, settings, the workflow contract, status transitions and migrations.

It imports neither the control plane (`backend`) nor the execution plane (`worker`).
"""
