"""Fleet benchmark for `wvzscan org` (issue 14).

A generated fleet of N small repositories (default 200) served as local repositories and listed
through the loopback GitHub-shaped server (tests/github_emulator.py). Measures:

1. the first fleet scan (`wvzscan org --github acme --state --mirror-dir`) vs the sum of
   `wvzscan repo PATH` run on each repository, one process each, as a shell loop would;
2. the rescan after one new commit in 10 repositories (same --state and --mirror-dir), as a
   fraction of the first scan;
3. four shards run as four processes, merged with `wvzscan merge`, vs one unsharded run: the
   findings must be exactly the same.

    python benchmarks/fleet_bench.py [--repos 200] [--skip-loop]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.github_emulator import ForgeServer, Repo  # noqa: E402
from tests.helpers import cli_env, make_key  # noqa: E402

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _git(*args: str, cwd: Path | None = None, input: bytes | None = None) -> bytes:
    env = {**cli_env(), **GIT_ENV}
    return subprocess.run(["git", *args], cwd=cwd, input=input, env=env, check=True, capture_output=True).stdout


def make_repo(path: Path, i: int) -> None:
    """A few commits of a few small files; every fifth repository holds a key."""
    path.mkdir(parents=True)
    _git("init", "-q", "-b", "main", str(path))
    for c in range(5):
        for f in range(4):
            (path / f"src/mod{f}").mkdir(parents=True, exist_ok=True)
            (path / f"src/mod{f}/file{c}.py").write_text(f"# repo {i} commit {c}\n" + "x = 1\n" * (20 + c * f))
        if c == 2 and i % 5 == 0:
            (path / "config.env").write_text(f"WEAVZ_API_KEY={make_key()}\n")
        _git("add", "-A", cwd=path)
        _git("commit", "-q", "-m", f"commit {c}", cwd=path)


def wvzscan(*args: str, cwd: Path | None = None) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "wvzscan", *args], cwd=cwd, env=cli_env(), capture_output=True)
    return time.perf_counter() - t, p


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repos", type=int, default=200)
    ap.add_argument("--skip-loop", action="store_true", help="do not time the per-repository loop")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="wvzscan-fleet-"))
    t = time.perf_counter()
    paths = []
    for i in range(a.repos):
        p = tmp / "src" / f"r{i:03d}"
        make_repo(p, i)
        paths.append(p)
    print(f"generated {a.repos} repositories in {time.perf_counter() - t:.1f} s under {tmp}")
    repos = [Repo(f"acme/{p.name}", p.as_uri(), pushed_at="2024-01-01T00:00:00Z") for p in paths]
    with ForgeServer(github_orgs={"acme": repos}) as srv:
        base = ("org", "--github", "acme", "--github-api-url", srv.url, "--format", "json", "-q")
        state, mirrors = str(tmp / "state.db"), str(tmp / "mirrors")
        first_s, first = wvzscan(*base, "--state", state, "--mirror-dir", mirrors)
        first_doc = json.loads(first.stdout)
        print(
            f"first fleet scan (--state --mirror-dir, clones included): {first_s:.2f} s, "
            f"{len(first_doc['findings'])} findings, {len(first_doc['errors'])} errors, exit {first.returncode}"
        )
        plain_s, plain = wvzscan(*base)
        print(f"fleet scan without state or mirrors (temporary clones): {plain_s:.2f} s")
        if not a.skip_loop:
            loop = 0.0
            for p in paths:
                s, _ = wvzscan("repo", str(p), "--format", "json", "-q")
                loop += s
            print(f"sum of `wvzscan repo PATH` over {len(paths)} repositories: {loop:.2f} s")
        for r, p in zip(repos[:10], paths[:10], strict=True):
            r.pushed_at = "2024-01-02T00:00:00Z"  # as GitHub does on a push
            (p / "NEW.md").write_text(f"one more commit {time.time()}\n")
            _git("add", "-A", cwd=p)
            _git("commit", "-q", "-m", "one more", cwd=p)
        re_s, re = wvzscan(*base, "--state", state, "--mirror-dir", mirrors)
        af_s, _ = wvzscan(*base, "--state", state, "--mirror-dir", mirrors, "--always-fetch")
        re_doc = json.loads(re.stdout)
        same = {f["fingerprint"] for f in re_doc["findings"]} == {f["fingerprint"] for f in first_doc["findings"]}
        print(
            f"rescan after one new commit in 10 repositories: {re_s:.2f} s = {100 * re_s / first_s:.1f}% of the "
            f"first scan; same keys: {same}; objects read: {re_doc['stats']['objects_scanned']}; "
            f"the same with --always-fetch (every mirror fetched, nothing new): {af_s:.2f} s = "
            f"{100 * af_s / first_s:.1f}%"
        )
        one_s, one = wvzscan(*base)
        t = time.perf_counter()
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "wvzscan", *base, "--shard", f"{k}/4", "-o", str(tmp / f"s{k}.json")],
                env=cli_env(),
                stderr=subprocess.DEVNULL,
            )
            for k in range(1, 5)
        ]
        for pr in procs:
            pr.wait()
        shards_s = time.perf_counter() - t
        _, merged = wvzscan("merge", *[str(tmp / f"s{k}.json") for k in range(1, 5)], "--format", "json")
        a_doc, b_doc = json.loads(merged.stdout), json.loads(one.stdout)
        print(
            f"four shards as four processes: {shards_s:.2f} s wall (one run: {one_s:.2f} s; this machine has "
            f"2 cores); merged findings == one run: {a_doc['findings'] == b_doc['findings']}, errors equal: "
            f"{a_doc['errors'] == b_doc['errors']}, notes equal: {a_doc['notes'] == b_doc['notes']} "
            f"({len(a_doc['findings'])} findings)"
        )


if __name__ == "__main__":
    main()
