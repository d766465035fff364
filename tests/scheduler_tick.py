"""One scheduler tick in its own process, for tests that race two of them: `python -m tests.scheduler_tick`.

Reads the database, Redis, Microsoft endpoints and encryption key from the environment, waits until the file
named by TICK_GO exists (so two processes start together), runs the scheduler's due-sync, sync and action jobs
once, and prints what it ran as JSON.
"""
import json
import os
import time
from pathlib import Path

from config import TestingConfig
from portal import create_app, jobs


def main() -> None:
    app = create_app(TestingConfig(), SQLALCHEMY_DATABASE_URI=os.environ["TICK_DATABASE_URL"], REDIS_URL=None,
                     ENCRYPTION_KEY=os.environ["TICK_ENCRYPTION_KEY"], ACTION_KICK="none", SYNC_KICK="none",
                     ENTRA_AUTHORITY_HOST=os.environ["TICK_AUTHORITY"], GRAPH_ENDPOINT=os.environ["TICK_GRAPH"],
                     ENTRA_CA_BUNDLE=os.environ["TICK_CA"], LOG_LEVEL="WARNING")
    go = Path(os.environ["TICK_GO"])
    while not go.exists():
        time.sleep(0.01)
    queued = jobs.queue_due_syncs(app)
    synced = jobs.run_queued_syncs(app)
    actions = jobs.run_actions(app)
    print(json.dumps({"queued": len(queued), "synced": synced, "actions": actions}))


if __name__ == "__main__":
    main()
