"""A loopback stand-in for the Bot Framework's token signing keys (login.botframework.com).

The channel signs every request it sends a bot with a key from a published JWKS; botbuilder fetches
`…/.well-known/openidconfiguration`, follows its `jwks_uri` and checks each token against those keys.
Point the app's `MICROSOFT_OPENID_METADATA_URL` at `keys.openid_url` and mint tokens as the channel does:

    async with FakeBotFrameworkKeys() as keys:
        token = keys.token(audience=APP_ID, service_url=activity["serviceUrl"])
        token = keys.token(audience=APP_ID, service_url=..., issuer="https://evil.example")  # one thing varied

Published keys: `CHANNEL_KID`, endorsed for Teams (`msteams`), and `OTHER_CHANNEL_KID`, endorsed only for
Web Chat. `token(..., kid="x", signing_key=new_key())` signs with a key nobody published.

A slow or late key server: `FakeBotFrameworkKeys(delay=2)` waits before each answer (`fetches` counts the
key sets served); `FakeBotFrameworkKeys(port=p)` listens on a port chosen beforehand, to start it after the app.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"  # what the channel's tokens say they come from
CHANNEL_KID = "teams-channel-key"
OTHER_CHANNEL_KID = "webchat-channel-key"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeBotFrameworkKeys:
    def __init__(self, *, delay: float = 0, port: int = 0) -> None:
        self.keys = {CHANNEL_KID: (new_key(), ["msteams"]), OTHER_CHANNEL_KID: (new_key(), ["webchat"])}
        self.delay = delay
        self.port = port
        self.fetches = 0
        self._runner: web.AppRunner | None = None
        self.openid_url = ""

    async def __aenter__(self) -> "FakeBotFrameworkKeys":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._openid_configuration)
        app.router.add_get("/v1/.well-known/keys", self._jwks)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.openid_url = f"{self.base_url}/v1/.well-known/openidconfiguration"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def token(self, *, audience: str, service_url: str, issuer: str = ISSUER, expires_in: float = 3600,
              kid: str = CHANNEL_KID, signing_key: rsa.RSAPrivateKey | None = None) -> str:
        """A channel token: RS256 with the key `kid` (or `signing_key` under that kid)."""
        now = int(time.time())
        claims = {"iss": issuer, "aud": audience, "serviceurl": service_url, "nbf": now - 60, "iat": now - 60,
                  "exp": int(now + expires_in), "jti": uuid.uuid4().hex}
        key = signing_key or self.keys[kid][0]
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    async def _openid_configuration(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay)
        # Trimmed from the real document: botbuilder reads `jwks_uri` only.
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{self.base_url}/v1/.well-known/keys",
                                  "id_token_signing_alg_values_supported": ["RS256"],
                                  "token_endpoint_auth_methods_supported": ["private_key_jwt"]})

    async def _jwks(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay)
        self.fetches += 1
        keys = []
        for kid, (key, endorsements) in self.keys.items():
            jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kty": "RSA", "use": "sig", "kid": kid, "endorsements": endorsements})
        return web.json_response({"keys": keys})
