"""The organization's key list as ``keys`` and ``keys audit`` need it: every entry that could be read,
the API's ``total``, and what could not be read. No list at all is a ``WvzscanError`` (exit 2): then
nothing was audited, which must never pass for a clean audit."""

from __future__ import annotations

import datetime as dt

from wvzscan.errors import WvzscanError
from wvzscan.finding import ScanError
from wvzscan.hygiene.check import read_stamp
from wvzscan.weavz import (
    KEYS_PATH,
    ApiKey,
    BadResponse,
    Client,
    Forbidden,
    NotFound,
    TransportError,
    Unauthorized,
    WeavzError,
    list_total,
    raise_for,
)


def fetch_keys(client: Client, admin: str) -> tuple[list[ApiKey], int | None, list[ScanError]]:
    """The key list: entries, the API's ``total``, and what could not be read."""
    url = client.settings.base_url + KEYS_PATH
    try:
        a = client.key_list_answer(admin)
        raise_for(a)
    except Unauthorized:
        raise WvzscanError(
            f"WEAVZ_API_KEY was rejected (401 from {KEYS_PATH}): the key is unknown, revoked or expired"
        ) from None
    except Forbidden as e:
        if e.code in (None, "SCOPE_DENIED"):
            raise WvzscanError(
                f"WEAVZ_API_KEY is workspace-scoped (403 {e.code or ''} from {KEYS_PATH}): listing keys needs an "
                "org-wide key; create one in Settings -> API Keys and use it for administration only".replace("  ", " ")
            ) from None
        raise WvzscanError(f"WEAVZ_API_KEY may not list keys ({e.reason})") from None
    except NotFound:
        raise WvzscanError(f"404 from {url}: is this the Weavz API? (check --api-url / WEAVZ_API_URL)") from None
    except WeavzError as e:
        why = e.reason
        if isinstance(e, TransportError) and e.unreachable:
            why = f"cannot reach the Weavz API ({e.detail}, {e.reason})"
        raise WvzscanError(f"could not read the key list from {url}: {why}; nothing was audited") from None
    body = a.body
    if a.text_kind != "json" or not isinstance(body, dict) or not isinstance(body.get("apiKeys"), list):
        what = {"html": "an HTML page", "empty": "an empty body", "text": "text that is not JSON"}.get(
            a.text_kind, "JSON without an apiKeys list"
        )
        raise WvzscanError(f"{a.status} from {url} with {what}, not a key list; nothing was audited")
    errors: list[ScanError] = []
    keys: dict[str, ApiKey] = {}
    for i, d in enumerate(body["apiKeys"]):
        try:
            k = ApiKey.parse(d)
        except BadResponse as e:
            errors.append(ScanError(f"key list entry #{i + 1}", f"{e.reason}: not audited"))
            continue
        keys.setdefault(k.id, k)
    total = list_total(body)  # a numeric string counts; a next-page marker means more than listed
    listed = len(body["apiKeys"])
    if total is not None and total > listed:
        told = body.get("total")
        told_n = str(told).strip() if isinstance(told, (int, str)) and not isinstance(told, bool) else ""
        if len(told_n) < 20 and told_n.isdigit() and int(told_n) == total:
            more = f"{total - listed} key{'s were' if total - listed != 1 else ' was'} not audited"
            what = f"the API listed {listed} of {total} keys"
        else:
            more, what = "the rest were not audited", f"the API listed {listed} keys and says there are more"
            total = None  # how many more is not known
        errors.append(ScanError(KEYS_PATH, f"{what} and its pagination is not documented: {more}"))
    return list(keys.values()), total, errors


def admin_key_id(keys: list[ApiKey], admin: str, now: dt.datetime) -> str | None:
    """The listed entry of the admin key: the one live entry with its prefix (it just authenticated)."""

    def live(k: ApiKey) -> bool:
        s = read_stamp(k, "expires_at")
        return s.value is None or s.value > now

    found = [k for k in keys if k.key_prefix == admin[:8] and live(k)]
    return found[0].id if len(found) == 1 else None
