"""API keys: created once, stored hashed, revocable; the server's cached verdicts expire."""

import asyncio
import json

from assistant import keys as keys_module
from assistant.auth import Role
from assistant.keys import KeyStore
from assistant.resources import engine


def test_keys_create_list_and_revoke_from_the_cli(cli, isolated_env):
    created = json.loads(
        cli("keys", "create", "--role", "trader", "--name", "desk", "--json").output
    )
    store = KeyStore(engine())
    assert store.verify(created["key"]).role is Role.TRADER
    secret = created["key"].split("_", 2)[2]
    stored = b"".join(p.read_bytes() for p in isolated_env.glob("*.db*"))
    assert stored and secret.encode() not in stored  # only the hash is kept
    revoked = cli("keys", "revoke", created["id"])
    assert revoked.exit_code == 0 and "Revoked" in revoked.output
    assert store.verify(created["key"]) is None
    listed = json.loads(cli("keys", "list", "--json").output)
    assert [k["revoked"] for k in listed] == [True]
    missing = cli("keys", "revoke", "nope")
    assert missing.exit_code == 2 and "no API key 'nope'" in missing.output


def test_a_revocation_reaches_the_server_when_its_cached_verdict_expires(monkeypatch):
    store = KeyStore(engine())
    row, key = store.create(Role.VIEWER)
    clock = [1000.0]
    monkeypatch.setattr(keys_module.time, "monotonic", lambda: clock[0])

    async def check():
        return await store.verify_cached(key)

    assert asyncio.run(check()).role is Role.VIEWER
    store.revoke(row.id)
    assert asyncio.run(check()) is not None  # still within the cache window
    clock[0] += keys_module.CACHE_SECONDS + 1
    assert asyncio.run(check()) is None
    assert asyncio.run(store.verify_cached("ma_forged_secret")) is None
