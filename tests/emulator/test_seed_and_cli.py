"""Seeded directories are deterministic and realistic; `python -m emulator` serves and writes its info file."""
import json
import signal
import subprocess
import sys
import time
from collections import Counter

from emulator.__main__ import parse_args
from emulator.client import EmulatorClient
from emulator.directory import Directory
from emulator.seed import DEMO_PASSWORD, make_tenant
from emulator.state import EmulatorState


def test_same_seed_same_directory(monkeypatch):
    """Two tenants from one seed, built at different times, are identical; another seed differs."""
    a = make_tenant(7, 200)
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    b, c = make_tenant(7, 200), make_tenant(8, 200)
    assert a.sorted_ids == b.sorted_ids and a.id == b.id
    assert [a.users[i].props for i in a.sorted_ids] == [b.users[i].props for i in b.sorted_ids]
    assert [x.client_secret for x in a.apps.values()] == [x.client_secret for x in b.apps.values()]
    assert [(gr.props, gr.members) for gr in a.groups.groups.values()] == \
        [(gr.props, gr.members) for gr in b.groups.groups.values()]
    assert [(x.app_roles, x.role_assignments) for x in a.apps.values()] == \
        [(x.app_roles, x.role_assignments) for x in b.apps.values()]
    assert a.sorted_ids != c.sorted_ids


def test_seeded_groups_nest_and_cover_departments():
    """IT-Admins holds a user and Helpdesk-Leads (two users) and is assigned Frontdesk.Admin; Helpdesk has no role;
    each department is a Microsoft 365 group of exactly its people."""
    tenant = make_tenant(3, 400)
    by_name = {gr.props["displayName"]: gr for gr in tenant.groups.groups.values()}
    admins, leads, helpdesk = by_name["IT-Admins"], by_name["Helpdesk-Leads"], by_name["Helpdesk"]
    assert list(admins.members.values()) == ["user", "group"] and leads.id in admins.members
    assert len(leads.members) == 2 and len(helpdesk.members) == 2
    assert len(tenant.groups.transitive_members(admins.id)) == 3
    frontdesk = next(a for a in tenant.apps.values() if a.display_name == "Frontdesk")
    assert [a["principalId"] for a in frontdesk.role_assignments] == [admins.id]
    departments = {u.props["department"] for u in tenant.users.values() if u.props["department"]}
    for name in departments:
        group = by_name[f"{name} department"]
        assert group.unified and set(group.members) == {u.id for u in tenant.users.values()
                                                        if u.props["department"] == name}
    assert tenant.groups.changes == []  # seeded before any delta round, like users


def test_seed_file_groups_and_app_roles(tmp_path):
    """A seed file's groups (members by UPN or group id), appRoles, assignments and groupMembershipClaims load."""
    import json

    from emulator.seed import load_seed_file
    spec = {"tenants": [{"id": "11111111-1111-4111-8111-111111111111", "domain": "t.example",
                         "apps": [{"clientId": "22222222-2222-4222-8222-222222222222", "clientSecret": "s",
                                   "appRoles": [{"value": "Frontdesk.Admin", "displayName": "Admin"}],
                                   "groupMembershipClaims": "All",
                                   "appRoleAssignments": [{"principalId": "33333333-3333-4333-8333-333333333333",
                                                           "appRole": "Frontdesk.Admin"}]}],
                         "users": [{"userPrincipalName": "a@t.example", "displayName": "A"}],
                         "groups": [{"id": "44444444-4444-4444-8444-444444444444", "displayName": "Inner",
                                     "members": ["a@t.example"]},
                                    {"id": "33333333-3333-4333-8333-333333333333", "displayName": "Outer",
                                     "members": ["44444444-4444-4444-8444-444444444444"]}]}]}
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(spec))
    [tenant] = load_seed_file(str(path))
    user = tenant.find_user("a@t.example")
    assert tenant.groups.transitive_member_of(user.id) == ["44444444-4444-4444-8444-444444444444",
                                                           "33333333-3333-4333-8333-333333333333"]
    app = tenant.apps["22222222-2222-4222-8222-222222222222"]
    assert app.group_membership_claims == "All" and app.role_assignments[0]["principalType"] == "Group"


def test_generated_users_are_realistic():
    """Non-ASCII names, missing optional fields, disabled and guest users, duplicate names and managers."""
    tenant = make_tenant(1, 2000)
    users = [u.props for u in tenant.users.values()]
    assert any(not u["displayName"].isascii() for u in users)
    assert any(u["mobilePhone"] is None for u in users) and any(u["department"] is None for u in users)
    assert any(u["accountEnabled"] is False for u in users)
    assert any(u["userType"] == "Guest" and "#EXT#" in u["userPrincipalName"] for u in users)
    assert max(Counter(u["displayName"] for u in users).values()) > 1
    assert sum(1 for u in tenant.users.values() if u.manager_id) > 1500
    assert len({u["userPrincipalName"].lower() for u in users}) == len(users)
    assert all(u["userPrincipalName"].isascii() for u in users)


def test_command_line_serves_and_writes_info(tmp_path):
    """`python -m emulator` with free ports writes the info file for the default seed; it answers; SIGTERM stops it."""
    expected = make_tenant(parse_args([]).seed, 50)
    info_file = tmp_path / "info.json"
    proc = subprocess.Popen([sys.executable, "-m", "emulator", "--users", "50", "--https-port", "0", "--http-port", "0",
                             "--info-file", str(info_file), "--state-dir", str(tmp_path / "pki"), "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while not info_file.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
            time.sleep(0.05)
        info = json.loads(info_file.read_text())
        client = EmulatorClient(info)
        assert info["tenant_id"] == expected.id and info["tenants"][0]["user_count"] == len(expected.users) == 50
        assert [a["client_secret"] for a in info["applications"]] == [a.client_secret for a in expected.apps.values()]
        demo_ids = [u["id"] for u in info["demo_users"]]
        assert demo_ids and demo_ids == list(expected.users)[:len(demo_ids)]
        assert {u["password"] for u in info["demo_users"]} == {DEMO_PASSWORD}
        # This stats call is the first request the fresh emulator serves: it counts itself and nothing else.
        assert client.stats() == dict(dict.fromkeys(EmulatorState(Directory()).stats, 0), requests=1)
        discovery = client.http.get(f"{info['authority_host']}/{info['tenant_id']}/v2.0/.well-known/openid-configuration")
        assert discovery.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=15)[0]
    assert proc.returncode == 0
    assert "ENTRA_AUTHORITY_HOST" in output and info["ca_file"] in output
