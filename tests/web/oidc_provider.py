"""A local OpenID Connect provider for the OIDC login tests, on 127.0.0.1 over HTTP.

It does what an IdP does for the authorization code flow with PKCE: discovery at
``/.well-known/openid-configuration``, ``/authorize`` (the user is already signed in as ``user``, so it
redirects straight back with a one-time code), ``/token`` (checks the code, client, redirect URI and the
S256 ``code_verifier`` against the challenge, then answers an RS256 ID token with ``nonce``, ``email`` and
``groups``) and ``/jwks``. ``tamper`` lets a test sign with another key, change the nonce, audience or
issuer, or let a token expire. The RSA key is made per provider.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass
class User:
    email: str
    groups: list[str] = field(default_factory=list)


class Provider(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *, client_id: str = "stackfleet") -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.client_id = client_id
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.user = User("alice@example.dev", ["sre"])
        self.codes: dict[str, dict[str, str]] = {}
        self.tamper: set[str] = set()
        """Any of: "key", "nonce", "audience", "issuer", "expired"."""
        self.token_requests = 0
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(5)

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer + ("/other" if "issuer" in self.tamper else ""),
            "aud": "someone-else" if "audience" in self.tamper else self.client_id,
            "sub": "u-1", "email": self.user.email, "groups": self.user.groups,
            "nonce": "not-the-nonce" if "nonce" in self.tamper else nonce,
            "iat": now - 5, "exp": now - 1 if "expired" in self.tamper else now + 300,
        }
        signer = self.other_key if "key" in self.tamper else self.key
        return jwt.encode(claims, signer, algorithm="RS256", headers={"kid": "k1"})

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}


class Handler(BaseHTTPRequestHandler):
    server: Provider

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/.well-known/openid-configuration":
            base = self.server.issuer
            self.answer(200, {"issuer": base, "authorization_endpoint": f"{base}/authorize",
                              "token_endpoint": f"{base}/token", "jwks_uri": f"{base}/jwks",
                              "code_challenge_methods_supported": ["S256"]})
        elif url.path == "/jwks":
            self.answer(200, self.server.jwks())
        elif url.path == "/authorize":
            self.authorize({k: v[0] for k, v in parse_qs(url.query).items()})
        else:
            self.answer(404, {"error": "not_found"})

    def authorize(self, query: dict[str, str]) -> None:
        if query.get("client_id") != self.server.client_id or query.get("code_challenge_method") != "S256":
            self.answer(400, {"error": "invalid_request"})
            return
        code = secrets.token_urlsafe(16)
        self.server.codes[code] = query
        self.send_response(302)
        self.send_header("Location", f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        self.server.token_requests += 1
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
        asked = self.server.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (asked is None or form.get("grant_type") != "authorization_code" or form.get("client_id") != asked["client_id"]
                or form.get("redirect_uri") != asked["redirect_uri"] or challenge != asked["code_challenge"]):
            self.answer(400, {"error": "invalid_grant"})
            return
        self.answer(200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                          "id_token": self.server.id_token(asked["nonce"])})

    def answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return
