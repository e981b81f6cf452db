"""Execution plane: Temporal workflows, activities, model providers, tools and trace sinks.

It imports the domain models and schemas from `core.models`, never the API layer.
"""
