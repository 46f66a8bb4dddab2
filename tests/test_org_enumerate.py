"""Enumeration of `wvzscan org` against the loopback GitHub/GitLab server: pagination, rate limits
(waited out through an injected sleep, never skipped), forks, archived, 404, bad token."""

from __future__ import annotations

import pytest

from tests.github_emulator import ForgeServer, Repo
from wvzscan.errors import WvzscanError
from wvzscan.org import shard, targets

TOKEN = "ghp_" + "t" * 36


def _repos(n: int, org: str = "acme") -> list[Repo]:
    return [Repo(f"{org}/r{i:03d}", f"https://example.invalid/{org}/r{i:03d}.git") for i in range(n)]


class FakeClock:
    def __init__(self, now: float) -> None:
        self.t = now
        self.slept: list[float] = []

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.t += s

    def now(self) -> float:
        return self.t


def _waiter(clock: FakeClock) -> targets.Waiter:
    return targets.Waiter(sleep=clock.sleep, now=clock.now)


def test_github_pagination_forks_archived() -> None:
    repos = _repos(250)
    repos[3].fork = True
    repos[7].archived = True
    with ForgeServer(github_orgs={"acme": repos}, page_size=100) as srv:
        clock = FakeClock(srv.now)
        got = targets.github(
            "acme",
            srv.url,
            None,
            include_forks=False,
            include_archived=False,
            get=targets.httpx_get(),
            waiter=_waiter(clock),
        )
        assert len(got.targets) == 248
        assert {t.name for t in got.targets} == {r.name for r in repos} - {"acme/r003", "acme/r007"}
        assert any("1 fork" in n for n in got.notes) and any("1 archived" in n for n in got.notes)
        assert len([r for r in srv.requests if "/orgs/acme/repos" in r.path]) == 3  # 100 + 100 + 50
        every = targets.github(
            "acme",
            srv.url,
            None,
            include_forks=True,
            include_archived=True,
            get=targets.httpx_get(),
            waiter=_waiter(clock),
        )
        assert len(every.targets) == 250
    assert clock.slept == []


def test_github_user_when_no_org_and_404() -> None:
    with ForgeServer(github_users={"ada": _repos(3, "ada")}) as srv:
        got = targets.github(
            "ada",
            srv.url,
            None,
            include_forks=False,
            include_archived=False,
            get=targets.httpx_get(),
            waiter=targets.Waiter(),
        )
        assert [t.name for t in got.targets] == ["ada/r000", "ada/r001", "ada/r002"]
        with pytest.raises(WvzscanError, match="no GitHub organization or user named 'nobody'"):
            targets.github(
                "nobody",
                srv.url,
                None,
                include_forks=False,
                include_archived=False,
                get=targets.httpx_get(),
                waiter=targets.Waiter(),
            )


def test_github_bad_token_is_an_error_without_the_token() -> None:
    with ForgeServer(github_orgs={"acme": _repos(2)}, token=TOKEN) as srv:
        with pytest.raises(WvzscanError) as e:
            targets.github(
                "acme",
                srv.url,
                "ghp_wrong",
                include_forks=False,
                include_archived=False,
                get=targets.httpx_get(),
                waiter=targets.Waiter(),
            )
        assert "rejected GITHUB_TOKEN" in str(e.value) and "wrong" not in str(e.value)
        ok = targets.github(
            "acme",
            srv.url,
            TOKEN,
            include_forks=False,
            include_archived=False,
            get=targets.httpx_get(),
            waiter=targets.Waiter(),
        )
        assert len(ok.targets) == 2
        assert srv.requests[-1].headers.get("authorization") == f"Bearer {TOKEN}"


@pytest.mark.parametrize("kind", ["primary", "secondary", "429"])
def test_github_rate_limits_are_waited_out(kind: str) -> None:
    with ForgeServer(github_orgs={"acme": _repos(150)}, page_size=100) as srv:
        srv.fail_next(kind, seconds=42)
        clock = FakeClock(srv.now)
        got = targets.github(
            "acme",
            srv.url,
            None,
            include_forks=False,
            include_archived=False,
            get=targets.httpx_get(),
            waiter=_waiter(clock),
        )
        assert len(got.targets) == 150  # nothing skipped
        assert len(clock.slept) == 1 and 42 <= clock.slept[0] <= 43


def test_rate_limit_used_up_waits_before_next_page() -> None:
    calls: list[str] = []

    def get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        calls.append(url)
        if "page=2" in url:
            return (
                200,
                {"x-ratelimit-remaining": "4", "x-ratelimit-reset": "0"},
                b'[{"full_name": "a/y", "clone_url": "https://github.com/a/y.git"}]',
            )
        link = '<https://api.github.com/orgs/a/repos?per_page=100&type=all&page=2>; rel="next"'
        hdrs = {"link": link, "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000"}
        return 200, hdrs, b'[{"full_name": "a/x", "clone_url": "https://github.com/a/x.git"}]'

    clock = FakeClock(900.0)
    got = targets.github(
        "a",
        "https://api.github.com",
        "tok123456",
        include_forks=False,
        include_archived=False,
        get=get,
        waiter=_waiter(clock),
    )
    assert [t.name for t in got.targets] == ["a/x", "a/y"]
    assert clock.slept == [101.0]
    # api.github.com's token goes with clones from github.com, and only there
    assert all(t.credential is not None and t.credential.origin == "https://github.com" for t in got.targets)
    assert "tok123456" not in repr(got.targets)


def test_a_next_link_to_another_host_is_not_followed() -> None:
    def get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        assert "evil" not in url
        return 200, {"link": '<https://evil.example/steal?page=2>; rel="next"'}, b"[]"

    with pytest.raises(WvzscanError, match="another host"):
        targets.github(
            "a",
            "https://api.github.com",
            "tok",
            include_forks=False,
            include_archived=False,
            get=get,
            waiter=targets.Waiter(),
        )


def test_gitlab_pagination_subgroups_forks_429() -> None:
    repos = _repos(45, "grp")
    repos[0].fork = True
    repos[1].archived = True
    with ForgeServer(gitlab_groups={"grp/sub": repos}, page_size=20, token="glpat-secret") as srv:
        srv.fail_next("429", seconds=7)
        clock = FakeClock(srv.now)
        got = targets.gitlab(
            "grp/sub",
            srv.url,
            "glpat-secret",
            include_forks=False,
            include_archived=False,
            get=targets.httpx_get(),
            waiter=_waiter(clock),
        )
        assert len(got.targets) == 43 and clock.slept == [7.0]
        assert all(r.headers.get("private-token") == "glpat-secret" for r in srv.requests)
        assert all("include_subgroups=true" in r.path for r in srv.requests)
        with pytest.raises(WvzscanError, match="no GitLab group 'none'"):
            targets.gitlab(
                "none",
                srv.url,
                None,
                include_forks=False,
                include_archived=False,
                get=targets.httpx_get(),
                waiter=targets.Waiter(),
            )
        with pytest.raises(WvzscanError, match="rejected GITLAB_TOKEN"):
            targets.gitlab(
                "grp/sub",
                srv.url,
                "bad",
                include_forks=False,
                include_archived=False,
                get=targets.httpx_get(),
                waiter=targets.Waiter(),
            )


def test_gitlab_primary_rate_limit_headers() -> None:
    with ForgeServer(gitlab_groups={"g": _repos(3, "g")}) as srv:
        srv.fail_next("primary", seconds=30)
        clock = FakeClock(srv.now)
        got = targets.gitlab(
            "g",
            srv.url,
            None,
            include_forks=False,
            include_archived=False,
            get=targets.httpx_get(),
            waiter=_waiter(clock),
        )
        assert len(got.targets) == 3 and clock.slept == [31.0]


def test_api_url_must_be_https_or_loopback() -> None:
    with pytest.raises(WvzscanError, match="https"):
        targets.check_api_url("http://github.example.com/api/v3", "--github-api-url")
    assert targets.check_api_url("http://127.0.0.1:8080/", "--github-api-url") == "http://127.0.0.1:8080"


def test_hostile_clone_urls_are_not_cloned() -> None:
    body = b'[{"full_name": "a/x", "clone_url": "ext::sh -c touch% /tmp/pwned"}, {"full_name": "a/y", "clone_url": "file:///etc"}]'

    def get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        return 200, {}, body

    got = targets.github(
        "a",
        "https://api.github.com",
        None,
        include_forks=False,
        include_archived=False,
        get=get,
        waiter=targets.Waiter(),
    )
    assert [(t.name, t.url) for t in got.targets] == [("a/x", None), ("a/y", None)]


def test_repos_list() -> None:
    lines = ["# fleet", "", "https://github.com/acme/api.git", "./local", "  ./local  "]
    got = targets.from_lines(lines, "list")
    assert [t.name for t in got.targets] == ["https://github.com/acme/api.git", "./local"]
    with pytest.raises(WvzscanError, match="password or token"):
        targets.from_lines(["https://user:tok@github.com/acme/api.git"], "list")


def test_shards_are_stable_and_partition() -> None:
    names = [f"acme/r{i}" for i in range(500)]
    parts = [set(shard.select(names, names, shard.parse(f"{k}/4"))) for k in range(1, 5)]
    assert set().union(*parts) == set(names) and sum(len(p) for p in parts) == 500
    assert all(60 < len(p) < 190 for p in parts)
    # adding a repository moves no other
    more = [*names, "acme/new"]
    parts2 = [set(shard.select(more, more, shard.parse(f"{k}/4"))) for k in range(1, 5)]
    assert all(p <= q for p, q in zip(parts, parts2, strict=True))
    assert shard.parse("auto/4", {"JOB_COMPLETION_INDEX": "0"}) == shard.Shard(0, 4)
    for bad, env in (("auto/4", {}), ("auto/4", {"JOB_COMPLETION_INDEX": "4"}), ("0/4", {}), ("5/4", {}), ("x", {})):
        with pytest.raises(WvzscanError):
            shard.parse(bad, env)
