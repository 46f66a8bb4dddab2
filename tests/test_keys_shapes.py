"""`wvzscan keys` and `keys audit` on plausible but undocumented key-list shapes: incomplete, never clean."""

from __future__ import annotations

from tests.test_keys_audit import admin, audit, seed
from tests.weavz_fixtures import Harness, reshape_list


def test_total_as_a_string_larger_than_the_list_is_incomplete(wz: Harness) -> None:
    adm = admin(wz)
    seed(wz, "production-api")
    reshape_list(wz.emu, lambda d: {"apiKeys": d["apiKeys"][:1], "total": str(d["total"])})
    r = audit(wz, adm, "--format", "json", "--fail-on", "critical")
    assert r.code == 3, r.err
    doc = r.json()
    assert doc["summary"]["keys_listed_total"] == 2 and "listed 1 of 2 keys" in doc["errors"][0]["message"]
    assert wz.run("keys", env={"WEAVZ_API_KEY": adm.key}).code == 3


def test_next_page_marker_is_incomplete_with_no_made_up_total(wz: Harness) -> None:
    adm = admin(wz)
    reshape_list(wz.emu, lambda d: {"apiKeys": d["apiKeys"], "total": d["total"], "nextCursor": "page2"})
    r = audit(wz, adm, "--format", "json", "--fail-on", "critical")
    assert r.code == 3, r.err
    doc = r.json()
    assert doc["summary"]["keys_listed_total"] is None and "says there are more" in doc["errors"][0]["message"]
    listing = wz.run("keys", env={"WEAVZ_API_KEY": adm.key})
    assert listing.code == 3 and "(the list is incomplete)" in listing.out and "of None" not in listing.out


def test_unreadable_permissions_are_a_warning_not_an_org_wide_finding(wz: Harness) -> None:
    adm = admin(wz)
    odd = seed(wz, "production-api", scope="workspace")
    reshape_list(
        wz.emu,
        lambda d: {
            "apiKeys": [dict(k, permissions="workspace") if k["id"] == odd.id else k for k in d["apiKeys"]],
            "total": d["total"],
        },
    )
    r = audit(wz, adm, "--format", "json", "--fail-on", "critical")
    assert r.code == 3, r.err
    doc = r.json()
    rules = {f["rule"] for f in doc["findings"] if f["key_id"] == odd.id}
    assert "org-wide-key" not in rules
    assert any("unreadable permissions" in w["message"] for w in doc["warnings"])
