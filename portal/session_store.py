"""Chooses the server-side session backend: Redis when configured, otherwise the database."""
import redis
from flask import Flask

from portal.extensions import db


def redis_client(url: str) -> redis.Redis:
    """A Redis client with short timeouts, so an outage fails fast instead of hanging requests."""
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30)


def configure_session_store(app: Flask) -> None:
    """Set Flask-Session's backend from REDIS_URL."""
    if app.config.get("REDIS_URL"):
        app.config["SESSION_TYPE"] = "redis"
        app.config.setdefault("SESSION_REDIS", redis_client(app.config["REDIS_URL"]))
        app.config.setdefault("SESSION_KEY_PREFIX", "frontdesk:session:")
    else:
        app.config["SESSION_TYPE"] = "sqlalchemy"
        app.config["SESSION_SQLALCHEMY"] = db
        # Flask-Session declares its model on every init; drop the previous declaration so a
        # second app in one process (tests, CLI helpers) can declare it again.
        table = db.metadata.tables.get(app.config["SESSION_SQLALCHEMY_TABLE"])
        if table is not None:
            db.metadata.remove(table)
