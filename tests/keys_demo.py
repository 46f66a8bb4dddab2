"""A realistic organization for `wvzscan keys audit`: keys in every state, seeded with timestamps.

    python -m tests.keys_demo [text|json|markdown|...]

starts the emulator, seeds the organization and runs the real CLI against it (the output in README.md
comes from here). Tests use ``seed_demo_org`` too.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass

from tests.emulator import Emulator, Seeded


@dataclass
class DemoOrg:
    admin: Seeded
    by_name: dict[str, Seeded]


def seed_demo_org(emu: Emulator, now: dt.datetime | None = None) -> DemoOrg:
    now = now or dt.datetime.now(dt.timezone.utc)

    def ago(days: float) -> dt.datetime:
        return now - dt.timedelta(days=days)

    def ahead(days: float) -> dt.datetime:
        return now + dt.timedelta(days=days)

    ws_checkout = emu.add_workspace("Checkout", ws_id="ws_checkout")
    ws_search = emu.add_workspace("Search", ws_id="ws_search")
    admin = emu.seed_key("ops-admin-prod", created_at=ago(20), last_used_at=ago(0.01), expires_at=ahead(70))
    seeds = [
        # A well-kept key: scoped, named for its environment, expiring, recently used, young.
        emu.seed_key(
            "production-checkout",
            scope="workspace",
            workspace_ids=[ws_checkout],
            created_at=ago(10),
            last_used_at=ago(0.1),
            expires_at=ahead(80),
        ),
        # A rotation left unfinished: the old key is still there next to its -v2.
        emu.seed_key(
            "production-backend",
            scope="workspace",
            workspace_ids=[ws_search],
            created_at=ago(200),
            last_used_at=ago(1),
        ),
        emu.seed_key(
            "production-backend-v2",
            scope="workspace",
            workspace_ids=[ws_search],
            created_at=ago(5),
            last_used_at=ago(0.2),
            expires_at=ahead(85),
        ),
        # Org-wide, no expiry, name says nothing about its environment.
        emu.seed_key("zapier-integration", created_at=ago(40), last_used_at=ago(2)),
        # Never used for months.
        emu.seed_key(
            "staging-server",
            scope="workspace",
            workspace_ids=[ws_checkout],
            created_at=ago(60),
            last_used_at=None,
            expires_at=ahead(30),
        ),
        # Unused for a long time, expiring within days.
        emu.seed_key(
            "dev-laptop-ada",
            scope="workspace",
            workspace_ids=[ws_checkout],
            created_at=ago(80),
            last_used_at=ago(45),
            expires_at=ahead(5),
        ),
        # Expired but still listed.
        emu.seed_key(
            "qa-runner",
            scope="workspace",
            workspace_ids=[ws_search],
            created_at=ago(120),
            last_used_at=ago(31),
            expires_at=ago(30),
        ),
    ]
    return DemoOrg(admin, {s.record.name: s for s in seeds})


def main(argv: list[str]) -> int:
    import os
    import subprocess
    import tempfile

    from tests.helpers import ROOT, cli_env

    with Emulator() as emu, tempfile.TemporaryDirectory(prefix="wvz-demo-") as tmp:
        org = seed_demo_org(emu)
        env = cli_env({"WEAVZ_API_URL": emu.url, "WEAVZ_API_KEY": org.admin.key})
        fmt = argv[0] if argv else "text"
        cwd = os.getcwd()
        if fmt == "list":
            args = ["keys", *argv[1:]]
        elif fmt == "leaks":
            # One key leaked in a repository's config: scan with --verify, then join the report.
            cwd = tmp
            os.makedirs(os.path.join(tmp, "deploy"))
            with open(os.path.join(tmp, "deploy", "backend.env"), "w") as f:
                f.write(f"LOG_LEVEL=info\nWEAVZ_API_KEY={org.by_name['production-backend-v2'].key}\n")
            scan = ["dir", "deploy", "--verify", "--format", "json", "-o", "scan.json"]
            subprocess.run([sys.executable, "-m", "wvzscan", *scan], env=env, cwd=tmp, check=False)
            args = ["keys", "audit", "--leaks", "scan.json", *argv[1:]]
        else:
            args = ["keys", "audit", "--format", fmt, *argv[1:]]
        p = subprocess.run([sys.executable, "-m", "wvzscan", *args], env=env, cwd=cwd, check=False)
        print(f"[exit {p.returncode}] (run from {ROOT})", file=sys.stderr)
        return p.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
