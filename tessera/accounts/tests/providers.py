"""Fake GitHub and Google served on 127.0.0.1: the endpoints the adapters call, answering as
the real ones do, so the OAuth flows are tested over real HTTP without the internet."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

GOOGLE_CLIENT_ID = "tessera-web.apps.googleusercontent.com"
GITHUB_CLIENT_ID = "gh-client-id"
GITHUB_SECRET = "gh-client-secret"


@dataclass
class FakeProviders:
    url: str = ""
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    github_codes: dict[str, str] = field(default_factory=dict)  # code -> access token
    github_app_tokens: set[str] = field(default_factory=set)  # tokens issued to our app
    github_user: dict[str, Any] = field(default_factory=dict)
    github_emails: list[dict[str, Any]] = field(default_factory=list)
    google_codes: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> claims
    key: Any = None
    kid: str = "google-key-1"
    fail_with: int | None = None

    def google_id_token(self, *, key: Any = None, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": "https://accounts.google.com",
            "aud": GOOGLE_CLIENT_ID,
            "iat": now,
            "exp": now + 3600,
            **claims,
        }
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": self.kid})


@lru_cache(maxsize=2)
def rsa_key(name: str = "google") -> Any:
    """One RSA key per name for the whole run: generating one costs a noticeable moment."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@contextmanager
def fake_providers(settings: Any) -> Iterator[FakeProviders]:
    state = FakeProviders(key=rsa_key())

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, payload: Any) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path = urlparse(self.path).path
            state.requests.append((self.command, path, dict(self.headers.items()), raw))
            if state.fail_with is not None:
                self._reply(state.fail_with, {"message": "down"})
                return
            form = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
            bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if path == "/github/login/oauth/access_token":
                token = state.github_codes.get(form.get("code", ""))
                # GitHub answers a bad code with 200 and an error object.
                self._reply(200, {"access_token": token} if token else {"error": "bad_code"})
            elif path == "/github-api/user":
                known = bearer in state.github_codes.values() or bearer in state.github_app_tokens
                self._reply(200, state.github_user) if known else self._reply(401, {})
            elif path == "/github-api/user/emails":
                self._reply(200, state.github_emails)
            elif path == f"/github-api/applications/{GITHUB_CLIENT_ID}/token":
                token = json.loads(raw or b"{}").get("access_token")
                ok = token in state.github_app_tokens
                self._reply(200, {"token": token}) if ok else self._reply(404, {})
            elif path == "/google/token":
                claims = state.google_codes.get(form.get("code", ""))
                if claims is None:
                    self._reply(400, {"error": "invalid_grant"})
                else:
                    self._reply(
                        200,
                        {"access_token": "ya29.x", "id_token": state.google_id_token(**claims)},
                    )
            elif path == "/google/certs":
                jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(state.key.public_key()))
                self._reply(
                    200, {"keys": [{**jwk, "kid": state.kid, "alg": "RS256", "use": "sig"}]}
                )
            else:
                self._reply(404, {})

        do_GET = do_POST = _handle  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    settings.GITHUB_CLIENT_ID = GITHUB_CLIENT_ID
    settings.GITHUB_CLIENT_SECRET = GITHUB_SECRET
    settings.GITHUB_OAUTH_URL = f"{state.url}/github"
    settings.GITHUB_API_URL = f"{state.url}/github-api"
    settings.GOOGLE_CLIENT_ID = GOOGLE_CLIENT_ID
    settings.GOOGLE_CLIENT_SECRET = "google-secret"
    settings.GOOGLE_AUTHORIZE_URL = f"{state.url}/google/auth"
    settings.GOOGLE_TOKEN_URL = f"{state.url}/google/token"
    settings.GOOGLE_JWKS_URL = f"{state.url}/google/certs"
    settings.AUTH_SOCIAL_REDIRECT_URIS = ["http://127.0.0.1:3000/auth/callback"]
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
