"""Execution plane: Temporal workflows, activities, model providers, tools and trace sinks.

It builds on the shared kernel (`core`), never on the control plane (`backend`).
"""
