"""Platform tokens at rest, and their renewal when the platform rotates them.

Tokens (a workspace's bot token, a person's own token) are stored encrypted with a key derived from
UNMEET_SECRET_KEY, and only ever decrypted to call the platform; they are never logged.

With token rotation on in the Slack app, a token expires (after 12 hours) and comes with a refresh
token, which Slack revokes once it has been used for a new pair. `current` gives the stored token,
renewed first when it expires within REFRESH_BEFORE or the platform refused it as expired. Several
instances of the app share the database: the renewal happens under a lock on the token's row, and the
row is read again once the lock is held, so when another instance renewed it meanwhile its new token is
used and Slack is asked once. The platform's own call is passed in (`Refresh`), so this stays the same
for any platform and for bot and personal tokens alike.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.config import Settings
from core.persistence import tokens as store
from core.persistence.tokens import BOT, PERSONAL, Slot, StoredToken
from core.services.deps import Deps

__all__ = ["BOT", "PERSONAL", "Grant", "NoSecretKey", "Refresh", "RefreshRefused", "current", "decrypt_token",
           "encrypt_token", "expires_at"]

log = logging.getLogger("unmeet.tokens")

# Renew this long before the expiry (slack_sdk's rotator uses the same margin): a job or a request never
# starts with a token about to die, and a platform hiccup leaves two hours to try again.
REFRESH_BEFORE = timedelta(hours=2)


class NoSecretKey(Exception):
    """Neither UNMEET_SECRET_KEY nor the Slack signing secret is set: tokens can't be stored safely."""


class RefreshRefused(Exception):
    """The platform refused the refresh token for good (revoked, used up): the token can't be renewed."""


@dataclass(frozen=True)
class Grant:
    """What a refresh gives: a new token, the refresh token for the next time, and how long it lives."""

    token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: float  # seconds


Refresh = Callable[[str], Awaitable[Grant]]  # refresh token -> a new grant (RefreshRefused when it's dead)


def _fernet(settings: Settings) -> Fernet:
    """The key encrypting tokens, derived from UNMEET_SECRET_KEY or, when that is empty, the Slack signing
    secret (changing it means people connect again)."""
    secret = settings.unmeet_secret_key or settings.slack_signing_secret
    if not secret:
        raise NoSecretKey()
    key = HKDF(algorithm=SHA256(), length=32, salt=b"unmeet", info=b"user tokens").derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_token(settings: Settings, token: str) -> str:
    return _fernet(settings).encrypt(token.encode()).decode()


def decrypt_token(settings: Settings, encrypted: str) -> str | None:
    try:
        return _fernet(settings).decrypt(encrypted.encode()).decode()
    except (InvalidToken, NoSecretKey):
        return None  # the key changed: the person connects (or the workspace installs) again


def expires_at(now: datetime, expires_in: float | None) -> datetime | None:
    """When a token Slack says lives `expires_in` seconds expires; None: it never does."""
    return None if expires_in is None else now + timedelta(seconds=float(expires_in))


def _due(deps: Deps, stored: StoredToken, now: datetime, refused: str | None, expired: bool) -> bool:
    if stored.refresh_token_encrypted is None:
        return False  # no rotation: the token never expires, and there is nothing to renew it with
    if refused is None:
        return stored.expires_at is None or stored.expires_at - now <= REFRESH_BEFORE
    if decrypt_token(deps.settings, stored.token_encrypted) != refused:
        return False  # renewed since the refused token was read (by another call or instance): use that one
    # "Expired" is the platform's word; a plain refusal counts as one only once the expiry has passed.
    return expired or stored.expires_at is None or stored.expires_at <= now


async def current(deps: Deps, slot: Slot, key, refresh: Refresh, *, stored: StoredToken | None = None,
                  refused: str | None = None, expired: bool = True) -> str | None:
    """The token stored under `key` (`stored`, when the caller has just read it), renewed first when it
    expires within REFRESH_BEFORE, or when the platform refused `refused` (`expired`: because it expired;
    else a refusal like Slack's `invalid_auth`, which counts only once the stored expiry has passed).
    None when there is no token, or it can't be decrypted. A renewal that fails while the token still
    works keeps the token (the next use tries again); otherwise the error (RefreshRefused: for good)
    propagates. On SQLite the renewal holds this process's database turn for one call to the platform,
    a few times a day per token."""
    now = deps.clock.now()
    if stored is None:
        async with deps.db.transaction() as conn:
            stored = await store.read(conn, slot, key)
    if stored is None:
        return None
    if not _due(deps, stored, now, refused, expired):
        return decrypt_token(deps.settings, stored.token_encrypted)
    async with deps.db.transaction() as conn:
        stored = await store.read(conn, slot, key, lock=True)
        if stored is None:
            return None
        token = decrypt_token(deps.settings, stored.token_encrypted)
        if not _due(deps, stored, now, refused, expired):
            return token  # another instance renewed it while this one waited for the lock
        refresh_token = decrypt_token(deps.settings, stored.refresh_token_encrypted)
        if token is None or refresh_token is None:
            return None
        try:
            grant = await refresh(refresh_token)
        except RefreshRefused:
            raise
        except Exception as error:  # noqa: BLE001 - a hiccup: the token still works for a while
            if refused is None and stored.expires_at is not None and stored.expires_at > now:
                log.warning("renewing a token in %s failed (%s); it works until %s", slot.table.name,
                            type(error).__name__, stored.expires_at.isoformat())
                return token
            raise
        await store.write(conn, slot, key, StoredToken(
            encrypt_token(deps.settings, grant.token), encrypt_token(deps.settings, grant.refresh_token),
            expires_at(now, grant.expires_in)))
    log.info("renewed a token in %s (%s)", slot.table.name, "refused as expired" if refused else "expiring soon")
    return grant.token
