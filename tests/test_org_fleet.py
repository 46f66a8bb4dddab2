"""`wvzscan org` end to end: real git repositories, the real CLI, the loopback GitHub server.

Shards merged equal one run; incremental rescans find new keys and report the earlier ones; a force
push rescans that repository in full; no token reaches any output or file; a corrupt state is an error.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from pathlib import Path

import pytest

from tests.github_emulator import ForgeServer, Repo
from tests.helpers import Run, commit_file, git, init_repo, make_key, run_cli

TOKEN = "ghp_" + "Zq8" * 12


def _fleet(tmp: Path, n: int) -> tuple[list[Path], dict[str, str]]:
    """n small repositories; every third holds a key (one key shared by two of them)."""
    shared = make_key()
    keys: dict[str, str] = {}
    paths = []
    for i in range(n):
        r = init_repo(tmp / "src" / f"r{i:02d}")
        commit_file(r, "README.md", f"repo {i}\n")
        if i % 3 == 0:
            keys[f"acme/r{i:02d}"] = shared if i in (0, 3) else make_key()
            commit_file(r, "conf/app.env", f"WEAVZ_KEY={keys[f'acme/r{i:02d}']}\n")
        commit_file(r, "src/main.py", f"print({i})\n")
        paths.append(r)
    return paths, keys


def _server(paths: list[Path], **kw: object) -> ForgeServer:
    repos = [Repo(f"acme/{p.name}", p.as_uri()) for p in paths]
    return ForgeServer(github_orgs={"acme": repos}, page_size=5, **kw)  # type: ignore[arg-type]


def _org(srv: ForgeServer, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    return run_cli("org", "--github", "acme", "--github-api-url", srv.url, *args, env=env, cwd=cwd)


def _locations(doc: dict[str, object]) -> list[tuple[object, ...]]:
    fs = doc["findings"]
    assert isinstance(fs, list)
    return [(f["repository"], f["fingerprint"], f["path"], f["line"], f["commit"]) for f in fs]


def test_org_scans_every_repository_with_repository_field(tmp_path: Path) -> None:
    paths, keys = _fleet(tmp_path, 7)
    with _server(paths) as srv:
        r = _org(srv, "--format", "json")
        assert r.code == 1, r.err
        doc = r.json()
        assert {f["repository"] for f in doc["findings"]} == set(keys)
        assert doc["errors"] == []
        text = _org(srv)
        # one entry for the key two repositories share, with both locations
        shared = keys["acme/r00"]
        entry = text.out.split(shared[:8] + "…")[1].split("\n\n")[0]
        assert "acme/r00: conf/app.env" in entry and "acme/r03: conf/app.env" in entry
        assert shared not in text.out + text.err


def test_one_repository_failing_is_an_error_for_it(tmp_path: Path) -> None:
    paths, _ = _fleet(tmp_path, 2)
    clean = [p for p in paths if not (p / "conf").exists()]
    repos = [Repo(f"acme/{p.name}", p.as_uri()) for p in clean] + [Repo("acme/gone", (tmp_path / "nope").as_uri())]
    with ForgeServer(github_orgs={"acme": repos}) as srv:
        r = _org(srv, "--format", "json")
        assert r.code == 3, r.err
        errors = r.json()["errors"]
        assert [e["where"] for e in errors] == ["acme/gone"]
        assert "cannot clone" in errors[0]["message"]


def test_four_shards_merged_equal_one_run(tmp_path: Path) -> None:
    paths, _ = _fleet(tmp_path, 12)
    with _server(paths) as srv:
        one = _org(srv, "--format", "json", cwd=tmp_path)
        assert one.code == 1, one.err
        for k in range(1, 5):
            r = _org(srv, "--shard", f"{k}/4", "--format", "json", "-o", str(tmp_path / f"s{k}.json"), cwd=tmp_path)
            assert r.code in (0, 1), r.err
        shards = [str(tmp_path / f"s{k}.json") for k in range(1, 5)]
        merged = run_cli("merge", *shards, "--format", "json")
        assert merged.code == 1, merged.err
        a, b = merged.json(), one.json()
        assert a["findings"] == b["findings"]
        assert a["errors"] == b["errors"] and a["notes"] == b["notes"]
        for k in ("bytes_scanned", "objects_scanned", "findings", "unique_keys"):
            assert a["stats"][k] == b["stats"][k]
        # every shard saw a non-empty, disjoint part
        seen = [{f["repository"] for f in json.loads(Path(s).read_text())["findings"]} for s in shards]
        assert sum(len(x) for x in seen) == len(set().union(*seen))
        auto = _org(srv, "--shard", "auto/4", "--list", env={"JOB_COMPLETION_INDEX": "0"})
        first = _org(srv, "--shard", "1/4", "--list")
        assert auto.out == first.out and auto.code == 0
        sarif = run_cli("merge", *shards, "--format", "sarif")
        assert json.loads(sarif.out)["runs"][0]["results"]


def test_incremental_rescan_and_force_push(tmp_path: Path) -> None:
    paths, keys = _fleet(tmp_path, 4)
    state, mirrors = str(tmp_path / "state.db"), str(tmp_path / "mirrors")
    with _server(paths) as srv:
        args = ("--state", state, "--mirror-dir", mirrors, "--format", "json")
        first = _org(srv, *args)
        assert first.code == 1, first.err
        assert "4 in full" in first.err
        before = {f["fingerprint"] for f in first.json()["findings"]}

        new_key = make_key()
        commit_file(paths[1], "later.env", f"K={new_key}\n", "add a key later")
        second = _org(srv, *args)
        assert second.code == 1, second.err
        assert "0 in full, 1 incrementally, 3 unchanged" in second.err
        doc = second.json()
        got = {f["fingerprint"] for f in doc["findings"]}
        import hashlib

        new_fp = hashlib.sha256(new_key.encode()).hexdigest()
        assert got == before | {new_fp}
        assert doc["stats"]["objects_scanned"] <= 4  # the new commit, its blob (trees are not read)
        added = [f for f in doc["findings"] if f["fingerprint"] == new_fp]
        assert added[0]["repository"] == "acme/r01" and added[0]["path"] == "later.env"
        # earlier findings come back with everything but the status fresh
        earlier = {(f["repository"], f["path"], f["commit"]) for f in first.json()["findings"]}
        assert earlier <= {(f["repository"], f["path"], f["commit"]) for f in doc["findings"]}
        # a key needed again is read back from its object: --show-secrets prints it
        shown = _org(srv, *args, "--show-secrets")
        assert new_key in shown.out and "4 unchanged" in shown.err

        # force push: r01's key commit is dropped and replaced
        git(paths[1], "reset", "-q", "--hard", "HEAD~1")
        replaced = make_key()
        commit_file(paths[1], "other.env", f"K={replaced}\n", "rewritten")
        third = _org(srv, *args)
        assert "1 in full, 0 incrementally, 3 unchanged" in third.err, third.err
        doc3 = third.json()
        assert any("acme/r01: history was rewritten" in n for n in doc3["notes"])
        fps = {f["fingerprint"] for f in doc3["findings"]}
        assert new_fp not in fps and hashlib.sha256(replaced.encode()).hexdigest() in fps

        # the state holds no key
        raw = Path(state).read_bytes()
        for k in [*keys.values(), new_key, replaced]:
            assert k.encode() not in raw
        assert os.stat(state).st_mode & 0o777 == 0o600


def test_pushed_at_unchanged_skips_the_fetch(tmp_path: Path) -> None:
    paths, _ = _fleet(tmp_path, 3)
    state, mirrors = str(tmp_path / "state.db"), str(tmp_path / "mirrors")
    repos = [Repo(f"acme/{p.name}", p.as_uri(), pushed_at="2024-01-01T00:00:00Z") for p in paths]
    with ForgeServer(github_orgs={"acme": repos}) as srv:
        args = ("--state", state, "--mirror-dir", mirrors, "--format", "json")
        assert "3 in full" in _org(srv, *args).err
        key = make_key()
        commit_file(paths[2], "late.env", f"K={key}\n")
        # the forge has not reported the push yet: the mirror is not fetched
        assert key[:8] not in _org(srv, *args).out
        forced = _org(srv, *args, "--always-fetch")
        assert key[:8] in forced.out and "1 incrementally" in forced.err
        repos[2].pushed_at = "2024-01-02T00:00:00Z"
        commit_file(paths[1], "late.env", f"K={key}\n")
        r = _org(srv, *args)
        assert "0 incrementally, 3 unchanged" in r.err  # r02 fetched: nothing new; r01 not fetched
        assert {f["repository"] for f in r.json()["findings"] if f["path"] == "late.env"} == {"acme/r02"}
        repos[1].pushed_at = "2024-01-02T00:00:00Z"
        r = _org(srv, *args)
        assert {f["repository"] for f in r.json()["findings"] if f["path"] == "late.env"} == {"acme/r01", "acme/r02"}


def test_rules_change_rescans_in_full(tmp_path: Path) -> None:
    paths, _ = _fleet(tmp_path, 2)
    state = str(tmp_path / "state.db")
    with _server(paths) as srv:
        assert "2 in full" in _org(srv, "--state", state).err
        assert "2 unchanged" in _org(srv, "--state", state).err
        again = _org(srv, "--state", state, "--exclude", "docs/*", "--format", "json")
        assert "2 in full" in again.err
        assert any("rules or the configuration changed" in n for n in again.json()["notes"])


def test_corrupt_or_foreign_state_is_an_error_with_the_fix(tmp_path: Path) -> None:
    paths, _ = _fleet(tmp_path, 1)
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE t (x)")
    db.close()
    with _server(paths) as srv:
        for f in (bad, foreign):
            r = _org(srv, "--state", str(f))
            assert r.code == 2, r.err
            assert "delete" in r.err and str(f) in r.err
        assert bad.read_bytes().startswith(b"this is not sqlite")  # never silently replaced


def test_state_written_per_repository_resumes(tmp_path: Path) -> None:
    """A run that stops after some repositories leaves their entries complete; the next run scans
    only the others (here: the state is made by scanning half of the list first)."""
    paths, _ = _fleet(tmp_path, 6)
    state = str(tmp_path / "state.db")
    with _server(paths) as srv:
        _org(srv, "--state", state, "--shard", "1/2")
        r = _org(srv, "--state", state)
        n_first = len(_org(srv, "--shard", "1/2", "--list").out.split())
        assert f"{6 - n_first} in full, 0 incrementally, {n_first} unchanged" in r.err


def test_no_token_in_any_output_or_file(tmp_path: Path) -> None:
    paths, _ = _fleet(tmp_path, 3)
    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    with ForgeServer(token=TOKEN) as other, _server(paths, token=TOKEN) as srv:
        srv.github_orgs["acme"] += [
            Repo("acme/private", f"{srv.url}/acme/private.git"),  # the forge's own origin: gets the token
            Repo("acme/elsewhere", f"{other.url}/x/elsewhere.git"),  # another origin: must not
        ]
        out = tmp_path / "out"
        out.mkdir()
        r = _org(
            srv,
            "--state",
            str(out / "state.db"),
            "--mirror-dir",
            str(out / "mirrors"),
            "--format",
            "json",
            "--report",
            f"sarif:{out / 'r.sarif'}",
            "--report",
            f"text:{out / 'r.txt'}",
            "--report",
            f"jsonl:{out / 'r.jsonl'}",
            env={"GITHUB_TOKEN": TOKEN, "GIT_TRACE": "0"},
            cwd=tmp_path,
        )
        assert r.code == 1, r.err
        where = {e["where"] for e in r.json()["errors"]}
        assert where == {"acme/private", "acme/elsewhere"}
        api = [q for q in srv.requests if "/orgs/" in q.path]
        assert api and all(q.headers["authorization"] == f"Bearer {TOKEN}" for q in api)
        git_reqs = [q for q in srv.requests if q.path.endswith("info/refs?service=git-upload-pack")]
        assert git_reqs and all(q.headers.get("authorization") == f"Basic {basic}" for q in git_reqs)
        assert other.requests and all("authorization" not in q.headers for q in other.requests)
        texts = [r.out, r.err]
        for f in out.rglob("*"):
            if f.is_file():
                texts.append(f.read_bytes().decode("utf-8", "replace"))
        for t in texts:
            assert TOKEN not in t and basic not in t and TOKEN[4:20] not in t


def test_repos_list_and_merge_jsonl(tmp_path: Path) -> None:
    paths, keys = _fleet(tmp_path, 4)
    listing = tmp_path / "repos.txt"
    listing.write_text(
        "# local paths and URLs\n" + "\n".join(str(p) for p in paths[:2]) + "\n" + paths[3].as_uri() + "\n"
    )
    r = run_cli("org", "--repos", str(listing), "--format", "jsonl", "-o", str(tmp_path / "a.jsonl"))
    assert r.code == 1, r.err
    m = run_cli("merge", str(tmp_path / "a.jsonl"))
    assert m.code == 1 and "JSON Lines" in m.err
    assert keys["acme/r00"][:8] in m.out and str(paths[0]) in m.out
    none = run_cli("org", "--repos", str(listing), "--github", "x")
    assert none.code == 2


@pytest.mark.parametrize("bad", [["--shard", "5/4"], ["--shard", "auto/3"]])
def test_bad_shard_is_usage_error(tmp_path: Path, bad: list[str]) -> None:
    listing = tmp_path / "l"
    listing.write_text("")
    r = run_cli("org", "--repos", str(listing), *bad)
    assert r.code == 2 and "shard" in r.err
