"""The full-stack profile: every external part real (or its closest stand-in here) at once."""
