"""Configuration safety, the admin CLI, settings changes and where sessions are stored."""
import pytest
import sqlalchemy as sa

import config
from portal.models import Admin, AuditEvent, Setting
from tests.conftest import csrf_from


def test_production_refuses_missing_secrets(monkeypatch):
    """Production names every missing variable instead of starting with weak defaults."""
    for name in ("SECRET_KEY", "ENCRYPTION_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", None)
    monkeypatch.setattr(config.ProductionConfig, "ENCRYPTION_KEY", None)
    with pytest.raises(RuntimeError) as err:
        config.ProductionConfig()
    assert "SECRET_KEY" in str(err.value) and "ENCRYPTION_KEY" in str(err.value) and "DATABASE_URL" in str(err.value)


def test_production_refuses_development_placeholder(monkeypatch):
    """A placeholder or testing key is not accepted in production."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://x/y")
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "dev-insecure-change-me" * 3)
    monkeypatch.setattr(config.ProductionConfig, "ENCRYPTION_KEY", "k" * 44)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.ProductionConfig()


def test_development_generates_keys_once(tmp_path, monkeypatch):
    """Development writes its keys into instance/ once and reuses them on the next start."""
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    monkeypatch.setattr(config.DevelopmentConfig, "SECRET_KEY", None)
    monkeypatch.setattr(config.DevelopmentConfig, "ENCRYPTION_KEY", None)
    first, second = config.DevelopmentConfig(), config.DevelopmentConfig()
    assert first.SECRET_KEY == second.SECRET_KEY and len(first.SECRET_KEY) >= 32
    assert (tmp_path / "encryption_key.key").stat().st_mode & 0o777 == 0o600
    from portal.crypto import SecretBox

    box = SecretBox(first.ENCRYPTION_KEY)
    assert box.decrypt(box.encrypt("s3cret-value")) == "s3cret-value"


def test_admin_create_reads_password_from_stdin(runner, db):
    """`flask admin create` takes the password on stdin, never as an argument, and hashes it."""
    result = runner.invoke(args=["admin", "create", "Boss@Example.com", "--password-stdin"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    admin = db.session.scalar(sa.select(Admin))
    assert admin.email == "boss@example.com" and admin.password_hash.startswith("scrypt:")
    assert admin.check_password("a long enough password")


def test_admin_create_refuses_weak_password_and_duplicates(runner, admin):
    """A short password and an existing email both fail with a clear message and exit code."""
    weak = runner.invoke(args=["admin", "create", "new@example.com", "--password-stdin"], input="short\n")
    assert weak.exit_code != 0 and "at least 12 characters" in weak.output
    dup = runner.invoke(args=["admin", "create", admin.email, "--password-stdin"], input="another long password\n")
    assert dup.exit_code != 0 and "already exists" in dup.output


def test_audit_verify_detects_a_tampered_row(runner, admin, db):
    """Editing an audit row in the database directly makes `flask audit verify` fail at that row."""
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    event_id = db.session.scalar(sa.select(AuditEvent.id))
    db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == event_id).values(actor_label="someone else"))
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0 and f"BROKEN at event {event_id}" in result.output


def test_settings_change_is_saved_and_audited(client, login_as, db):
    """An admin changes a policy value; the audit event carries the old and new value."""
    login_as("admin")
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'value="30"' in page  # idle timeout default from config
    form = {k: v for k, v in config.Config.POLICY_DEFAULTS.items()}
    form.update(session_idle_minutes=45, csrf_token=csrf_from(page))
    response = client.post("/admin/settings", data=form)
    assert response.status_code == 302
    assert db.session.get(Setting, "session_idle_minutes").value == 45
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "setting.changed"))
    assert event.detail == {"old": 30, "new": 45} and event.target_id == "session_idle_minutes"


def test_settings_reject_out_of_range_values(client, login_as, db):
    """Invalid values are refused with a message and nothing is saved."""
    login_as("admin")
    page = client.get("/admin/settings").get_data(as_text=True)
    form = dict(config.Config.POLICY_DEFAULTS, session_max_devices=0, session_idle_minutes=45,
                csrf_token=csrf_from(page))
    response = client.post("/admin/settings", data=form)
    assert response.status_code == 200 and "Number must be between 1 and 50" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Setting)) == 0


def test_sessions_live_in_the_configured_store(client, admin, app, redis_url, db):
    """With REDIS_URL the session is in Redis; without it, in the database table."""
    client.get("/admin/login")
    sid = client.get_cookie("frontdesk_session").value
    if redis_url:
        from portal.session_store import redis_client

        assert redis_client(redis_url).exists(f"frontdesk:session:{sid}")
    else:
        count = db.session.execute(sa.text("SELECT count(*) FROM sessions WHERE session_id = :s"), {"s": f"session:{sid}"}).scalar()
        assert count == 1


def test_policy_cache_is_used_and_dropped_on_change(app, db):
    """Each process keeps policy values for POLICY_CACHE_SECONDS; a change through the service is seen at once."""
    from portal import policy, signals
    from portal.models import Setting

    app.config["POLICY_CACHE_SECONDS"] = 60
    assert policy.all_values()["session_idle_minutes"] == 30
    db.session.add(Setting(key="session_idle_minutes", value=45))  # written behind the service's back
    db.session.commit()
    assert policy.all_values()["session_idle_minutes"] == 30  # served from this process's cache
    policy.set_values({"session_idle_minutes": 50}, actor=signals.SYSTEM)
    assert policy.all_values()["session_idle_minutes"] == 50
    app.config["POLICY_CACHE_SECONDS"] = 0
    db.session.get(Setting, "session_idle_minutes").value = 55
    db.session.commit()
    assert policy.all_values()["session_idle_minutes"] == 55
