"""Upgrade the database to the latest schema: `python scripts/migrate.py`.

For deployments that run the pieces themselves; reads DATABASE_URL like the API does.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.settings import Settings
from core.migrate import upgrade_from_settings

if __name__ == "__main__":
    upgrade_from_settings(Settings())
    print("database is at the latest schema")
