"""`python -m emulator`: serve the Entra ID + Microsoft Graph emulator until interrupted."""
import argparse
import logging
import signal
import sys
import tempfile
import threading
from pathlib import Path

from emulator.server import start


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="Address to bind (loopback by default).")
    parser.add_argument("--https-port", type=int, default=8443, help="HTTPS port for discovery, tokens and Graph (0 = any free port).")
    parser.add_argument("--http-port", type=int, default=None, help="Plain HTTP port for the browser sign-in pages (0 = any free port; omit for HTTPS only).")
    parser.add_argument("--users", type=int, default=250, help="Users per generated tenant.")
    parser.add_argument("--tenants", type=int, default=1, help="How many tenants to generate.")
    parser.add_argument("--seed", type=int, default=1, help="Seed for the generated directory (same seed, same users).")
    parser.add_argument("--seed-file", help="JSON file with tenants, apps and users instead of generated ones.")
    parser.add_argument("--info-file", type=Path, help="Write endpoints, credentials and the control token here as JSON.")
    parser.add_argument("--state-dir", type=Path, help="Where to write the CA, certificates and sign-in log (a temp dir by default).")
    parser.add_argument("--quiet", action="store_true", help="Do not log every request.")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(asctime)s emulator %(message)s")
    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="entra-emulator-"))
    running = start(host=args.host, https_port=args.https_port, http_port=args.http_port, users=args.users,
                    seed=args.seed, seed_file=args.seed_file, tenants=args.tenants, state_dir=state_dir,
                    info_file=args.info_file)
    info = running.info
    print(f"Entra ID + Microsoft Graph emulator ready in {info['startup_seconds']} s", flush=True)
    print(f"  Authority host (ENTRA_AUTHORITY_HOST): {info['authority_host']}")
    print(f"  Graph endpoint (GRAPH_ENDPOINT):       {info['graph_endpoint']}")
    print(f"  CA certificate (ENTRA_CA_BUNDLE):      {info['ca_file']}")
    print(f"  Browser sign-in pages:                 {info['login_base']}")
    for tenant in info["tenants"]:
        print(f"  Tenant {tenant['display_name']}: {tenant['tenant_id']} ({tenant['domain']}), {tenant['user_count']} users")
        for app in tenant["applications"]:
            print(f"    App '{app['display_name']}': client id {app['client_id']}  roles {', '.join(app['roles']) or '(none)'}")
    if args.info_file:
        print(f"  Info file (secrets, demo users, control token): {args.info_file}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
