"""A loopback stand-in for Microsoft Entra's token endpoint (login.microsoftonline.com), where the bot gets
its own token for calling the Bot Connector (MSAL's client-credentials flow).

MSAL only talks HTTPS, so the fake serves a self-signed certificate for 127.0.0.1; a process that should
trust it gets `REQUESTS_CA_BUNDLE=tokens.ca_file` (MSAL uses requests). Point the app at it with
`MICROSOFT_LOGIN_URL=tokens.login_url`:

    async with FakeEntraTokens(delay=1.5, lifetime=301) as tokens:
        ... MICROSOFT_LOGIN_URL=tokens.login_url, REQUESTS_CA_BUNDLE=tokens.ca_file ...
        tokens.issued  # the access tokens handed out, oldest first

Served: `/{tenant}/v2.0/.well-known/openid-configuration` (MSAL's tenant discovery) and
`/{tenant}/oauth2/v2.0/token`, which checks the client id and secret and answers after `delay` seconds
with a JWT access token that expires in `lifetime` seconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import tempfile
import time
import uuid
from pathlib import Path

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class FakeEntraTokens:
    def __init__(self, *, client_id: str = "", client_secret: str = "", delay: float = 0,
                 lifetime: float = 3600) -> None:
        self.client_id = client_id  # empty: any
        self.client_secret = client_secret
        self.delay = delay
        self.lifetime = lifetime
        self.issued: list[str] = []
        self.requests: list[dict] = []  # the token requests' forms
        self._folder = tempfile.TemporaryDirectory(prefix="fake-entra-")
        self._runner: web.AppRunner | None = None
        self.base_url = self.login_url = ""
        self.ca_file = ""

    async def __aenter__(self) -> "FakeEntraTokens":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def start(self) -> None:
        cert_file, key_file = _self_signed(Path(self._folder.name))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._configuration)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"https://127.0.0.1:{port}"
        self.login_url = f"{self.base_url}/"
        self.ca_file = str(cert_file)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._folder.cleanup()

    async def _configuration(self, request: web.Request) -> web.Response:
        base = f"{self.base_url}/{request.match_info['tenant']}"
        return web.json_response({"issuer": f"{base}/v2.0", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                                  "token_endpoint": f"{base}/oauth2/v2.0/token",
                                  "token_endpoint_auth_methods_supported": ["client_secret_post"]})

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.requests.append(form)
        await asyncio.sleep(self.delay)
        if form.get("grant_type") != "client_credentials" or (
                self.client_id and (form.get("client_id"), form.get("client_secret")) != (self.client_id,
                                                                                            self.client_secret)):
            return web.json_response({"error": "invalid_client", "error_description": "AADSTS7000215"}, status=401)
        now = int(time.time())
        token = jwt.encode({"aud": form.get("scope", "").removesuffix("/.default"), "appid": form.get("client_id"),
                            "iat": now, "nbf": now, "exp": int(now + self.lifetime), "jti": uuid.uuid4().hex},
                           "not-a-real-key-but-long-enough-for-hs256", algorithm="HS256")
        self.issued.append(token)
        return web.json_response({"token_type": "Bearer", "expires_in": int(self.lifetime), "ext_expires_in":
                                  int(self.lifetime), "access_token": token})
