"""Slack token rotation: the one call that renews a rotating token, for bot and user tokens alike.

With "token rotation" turned on in the Slack app (manifest: `settings.token_rotation_enabled: true`),
oauth.v2.access gives an access token that expires after 12 hours (`expires_in`) and a refresh token;
`grant_type=refresh_token` trades the refresh token for a new pair, and the used refresh token is
revoked. When and how often that happens (before the expiry, once across instances) is core's:
core.services.tokens.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.config import Settings
from core.services.tokens import Grant, RefreshRefused

# Slack's answers when a token has passed its expiry. `invalid_auth` may mean that too (or a revoked
# token): the caller renews on it only once the stored expiry has passed.
EXPIRED = "token_expired"
MAYBE_EXPIRED = "invalid_auth"
# Refusals of the refresh token that no retry can mend: the app was reinstalled or removed, or the token used.
REFRESH_REFUSED = {"invalid_refresh_token", "invalid_grant", "token_revoked"}


async def refresh(settings: Settings, refresh_token: str) -> Grant:
    """A new access token and refresh token from `oauth.v2.access` (`grant_type=refresh_token`)."""
    client = AsyncWebClient(base_url=settings.slack_api_url)
    try:
        answer = await client.oauth_v2_access(client_id=settings.slack_client_id,
                                              client_secret=settings.slack_client_secret,
                                              grant_type="refresh_token", refresh_token=refresh_token)
    except SlackApiError as error:
        code = error.response.get("error")
        if code in REFRESH_REFUSED:
            raise RefreshRefused(code) from None
        raise
    return Grant(str(answer["access_token"]), str(answer["refresh_token"]), float(answer["expires_in"]))
