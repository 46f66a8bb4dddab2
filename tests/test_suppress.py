"""Suppressions and the exit policy: inline allow, config allow with expiry, baselines, --fail-on."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from tests.helpers import make_key, run_cli


def fp(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def test_inline_allow_and_no_inline_allow(tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / "a.py").write_text(f'KEY = "{key}"  # wvzscan:allow test fixture\n')
    r = run_cli("dir", str(tmp_path), "--format", "json")
    assert r.code == 0 and r.json()["stats"]["suppressed"] == {"inline allow": 1}
    r = run_cli("dir", str(tmp_path), "--no-inline-allow")
    assert r.code == 1


def test_config_allow_with_reason_and_expiry(tmp_path: Path) -> None:
    live, expired, other = make_key(), make_key(), make_key()
    (tmp_path / "k.txt").write_text(f"{live}\n{expired}\n{other}\n")
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    (tmp_path / ".wvzscan.toml").write_text(
        f'[[allow]]\nfingerprint = "{fp(live)}"\nreason = "revoked 2026-01-02"\nexpires = {tomorrow}\n'
        f'[[allow]]\nfingerprint = "{fp(expired)}"\nreason = "old"\nexpires = 2020-01-01\n'
    )
    r = run_cli("dir", str(tmp_path), "--format", "json")
    rep = r.json()
    assert r.code == 1
    assert sorted(f["fingerprint"] for f in rep["findings"]) == sorted([fp(expired), fp(other)])
    assert rep["stats"]["suppressed"] == {"config allow": 1}
    assert any("expired on 2020-01-01" in n for n in rep["notes"])


def test_pyproject_tool_section(tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / "k.txt").write_text(key)
    (tmp_path / "skip").mkdir()
    (tmp_path / "skip" / "k.txt").write_text(make_key())
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n[tool.wvzscan]\nexclude = ["skip"]\n'
        f'[[tool.wvzscan.allow]]\nfingerprint = "{fp(key)}"\nreason = "test"\n'
    )
    r = run_cli("dir", ".", "--format", "json", cwd=tmp_path)
    assert r.code == 0, r.out
    assert r.json()["stats"]["skipped"] == {"excluded": 1}


def test_bad_config_is_a_clear_exit_2(tmp_path: Path) -> None:
    (tmp_path / ".wvzscan.toml").write_text("exclude = [1, 2\n")
    r = run_cli("dir", ".", cwd=tmp_path)
    assert r.code == 2 and "not valid TOML" in r.err and "Traceback" not in r.err
    (tmp_path / ".wvzscan.toml").write_text('[[allow]]\nfingerprint = "abc"\n')
    r = run_cli("dir", ".", cwd=tmp_path)
    assert r.code == 2 and "fingerprint" in r.err
    (tmp_path / ".wvzscan.toml").write_text("colour = 1\n")
    r = run_cli("dir", ".", cwd=tmp_path)
    assert r.code == 2 and "unknown setting" in r.err


def test_explicit_config_file(tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / "k.txt").write_text(key)
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text(f'allow = ["{fp(key)}"]\n')
    assert run_cli("dir", str(tmp_path), "--config", str(cfg)).code == 0
    assert run_cli("dir", str(tmp_path), "--config", str(tmp_path / "missing.toml")).code == 2


def test_baseline_roundtrip_is_stable_and_secret_free(tmp_path: Path) -> None:
    old, new = make_key(), make_key()
    (tmp_path / "old.txt").write_text(f"{old}\n")
    r1 = run_cli("baseline", ".", cwd=tmp_path)
    r2 = run_cli("baseline", ".", cwd=tmp_path)
    assert r1.code == 0 and r1.out == r2.out
    assert old not in r1.out and fp(old) in r1.out
    base = tmp_path / "baseline.json"
    assert run_cli("baseline", ".", "-o", str(base), cwd=tmp_path).code == 0
    assert base.read_text() == r1.out and (base.stat().st_mode & 0o777) == 0o600
    assert run_cli("dir", ".", "--baseline", str(base), "--exclude", "baseline.json", cwd=tmp_path).code == 0
    # Moving the key to another line or file keeps it suppressed: baselines key on fingerprints.
    (tmp_path / "old.txt").write_text(f"\n\n  {old}\n")
    (tmp_path / "new.txt").write_text(f"{new}\n")
    r = run_cli("dir", ".", "--baseline", str(base), "--format", "json", cwd=tmp_path)
    rep = r.json()
    assert r.code == 1 and [f["fingerprint"] for f in rep["findings"]] == [fp(new)]
    assert rep["stats"]["suppressed"] == {"baseline": 1}


def test_bad_baseline(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text("{not json")
    r = run_cli("dir", str(tmp_path), "--baseline", str(tmp_path / "b.json"))
    assert r.code == 2 and "baseline" in r.err


def test_fail_on(tmp_path: Path) -> None:
    (tmp_path / "k.txt").write_text(make_key())
    assert run_cli("dir", str(tmp_path), "--fail-on", "any").code == 1
    # Unverified keys are not proven dead: they fail `live`.
    assert run_cli("dir", str(tmp_path), "--fail-on", "live").code == 1
    assert run_cli("dir", str(tmp_path), "--fail-on", "none").code == 0
    assert run_cli("dir", str(tmp_path), "--fail-on", "bogus").code == 2


def test_fail_on_none_still_reports_incomplete(tmp_path: Path) -> None:
    (tmp_path / "mem").symlink_to("/proc/self/mem")
    assert run_cli("dir", str(tmp_path), "--fail-on", "none").code == 3


def test_dry_run_needs_revoke(tmp_path: Path) -> None:
    r = run_cli("dir", str(tmp_path), "--dry-run")
    assert r.code == 2 and "--dry-run" in r.err


def test_baseline_document_has_no_timestamps(tmp_path: Path) -> None:
    (tmp_path / "k.txt").write_text(make_key())
    doc = json.loads(run_cli("baseline", ".", cwd=tmp_path).out)
    assert set(doc) == {"tool", "baseline_version", "findings"}
    assert set(doc["findings"][0]) == {"fingerprint", "key_prefix", "paths"}


def test_config_file_shapes_users_write(tmp_path: Path) -> None:
    key = make_key()
    (tmp_path / "k.txt").write_text(key)
    # [tool.wvzscan] written in .wvzscan.toml (copied from a pyproject) is read, not silently ignored.
    (tmp_path / ".wvzscan.toml").write_text(f'[tool.wvzscan]\nallow = ["{fp(key)}"]\n')
    r = run_cli("dir", ".", "--format", "json", cwd=tmp_path)
    assert r.code == 0 and r.json()["stats"]["suppressed"] == {"config allow": 1}
    # "false" in quotes is a string, and bool("false") is True: refused instead.
    (tmp_path / ".wvzscan.toml").write_text('include_examples = "false"\n')
    r = run_cli("dir", ".", cwd=tmp_path)
    assert r.code == 2 and "include_examples must be true or false" in r.err


def test_someone_elses_broken_pyproject_does_not_stop_the_scan(tmp_path: Path) -> None:
    # A cookiecutter template's pyproject is not TOML; it holds no settings of ours, so it is not read
    # and the scan runs; a broken pyproject that does hold [tool.wvzscan] still stops it.
    key = make_key()
    (tmp_path / "k.txt").write_text(key)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "{{ cookiecutter.name }}"\nversion = {{ v }}\n')
    r = run_cli("dir", ".", "--format", "json", cwd=tmp_path)
    assert r.code == 1 and [f["path"] for f in r.json()["findings"]] == ["k.txt"]
    (tmp_path / "pyproject.toml").write_text("[tool.wvzscan]\nexclude = [\n")
    r = run_cli("dir", ".", cwd=tmp_path)
    assert r.code == 2 and "not valid TOML" in r.err


def test_baseline_of_a_history_hides_old_keys_from_repo_scans(tmp_path: Path) -> None:
    from tests.helpers import commit_file, init_repo

    repo = init_repo(tmp_path / "r")
    old = make_key()
    commit_file(repo, "config.env", f"KEY={old}\n", "add a key")
    commit_file(repo, "config.env", "KEY=from-the-environment\n", "remove it (revoked since)")
    base = tmp_path / "history-baseline.json"
    r = run_cli("baseline", "--git", str(repo), "-o", str(base))
    assert r.code == 0, r.err
    assert fp(old) in base.read_text() and old not in base.read_text()
    assert run_cli("baseline", "--git", str(repo)).out == base.read_text()  # stable bytes
    # A files baseline of the same tree knows nothing of the old key: history needs --git.
    assert fp(old) not in run_cli("baseline", str(repo)).out
    assert run_cli("repo", str(repo), "--baseline", str(base)).code == 0
    new = make_key()
    commit_file(repo, "app.py", f"K = '{new}'\n", "a new leak")
    r = run_cli("repo", str(repo), "--baseline", str(base), "--format", "json")
    assert r.code == 1 and [f["fingerprint"] for f in r.json()["findings"]] == [fp(new)]
    assert r.json()["stats"]["suppressed"] == {"baseline": 1}
    assert run_cli("baseline", "--git", str(repo), str(repo)).code == 2


def test_baseline_refuses_options_that_would_do_nothing(tmp_path: Path) -> None:
    for args in (["--format", "sarif"], ["--verify"], ["--report", f"json:{tmp_path / 'x.json'}"]):
        r = run_cli("baseline", str(tmp_path), *args)
        assert r.code == 2 and "does not apply" in r.err, args
