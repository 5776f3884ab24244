"""A small but real OpenID Connect provider for the tests, built with Authlib's server side:
discovery document, authorization endpoint (authorization code with PKCE S256 required and a
nonce required), token endpoint (client_secret_basic / client_secret_post), and a JWKS with
the RSA key that signs its ID tokens. It runs on 127.0.0.1 on a free port in a thread
(werkzeug's server), and the dashboard's Authlib client talks to it over HTTP.

There is no login screen: the provider signs in whoever the test sets as `provider.user`
(the provider's side of the flow is not what is under test), and approves at once.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import flask
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

KID = "test-key-1"


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in ("openid", "profile", "email"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: dict[str, Any]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


class Provider:
    """`Provider(client_id, secret, redirect_uris)`; `start()` returns the issuer URL."""

    def __init__(self, client_id: str, client_secret: str, redirect_uris: list[str]) -> None:
        self.client = Client(client_id, client_secret, redirect_uris)
        self.key = RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig", "alg": "RS256"},
                                       private=True)
        self.jwks_key: RSAKey | None = None  # published instead of `key` when set (a test of a bad signature)
        self.codes: dict[str, Code] = {}
        self.user: dict[str, Any] = {}
        self.issuer = ""
        self.token_requests = 0
        self._server: Any = None

    # -- the Flask app ---------------------------------------------------------------------

    def app(self) -> flask.Flask:
        provider = self
        app = flask.Flask("test-oidc-provider")

        class AuthCodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code: str, request: Any) -> None:
                payload = request.payload
                provider.codes[code] = Code(
                    code, request.client.get_client_id(), payload.redirect_uri, payload.scope,
                    dict(request.user), payload.data.get("nonce"), payload.data.get("code_challenge"),
                    payload.data.get("code_challenge_method"))

            def query_authorization_code(self, code: str, client: Client) -> Code | None:
                found = provider.codes.get(code)
                return found if found is not None and found.client_id == client.get_client_id() else None

            def delete_authorization_code(self, authorization_code: Code) -> None:
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: Code) -> dict[str, Any]:
                return authorization_code.user

        class IdToken(OpenIDCode):
            def resolve_client_private_key(self, client: Client) -> RSAKey:
                return provider.key

            def get_client_algorithm(self, client: Client) -> str:
                return "RS256"

            def get_encode_header(self, client: Client) -> dict[str, str]:
                return {"alg": "RS256", "kid": KID}

            def get_client_claims(self, client: Client) -> dict[str, Any]:
                return {"iss": provider.issuer, "aud": [client.get_client_id()]}

            def exists_nonce(self, nonce: str, request: Any) -> bool:
                return any(c.nonce == nonce for c in provider.codes.values())

            def generate_user_info(self, user: dict[str, Any], scope: str) -> UserInfo:
                return UserInfo(**user)

        server = AuthorizationServer(
            app, query_client=lambda cid: provider.client if cid == provider.client.client_id else None,
            save_token=lambda token, request: None)
        server.register_grant(AuthCodeGrant, [CodeChallenge(required=True), IdToken(require_nonce=True)])

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Any:
            return flask.jsonify({
                "issuer": provider.issuer,
                "authorization_endpoint": f"{provider.issuer}/authorize",
                "token_endpoint": f"{provider.issuer}/token",
                "jwks_uri": f"{provider.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            })

        @app.get("/jwks")
        def jwks() -> Any:
            return flask.jsonify({"keys": [(provider.jwks_key or provider.key).as_dict(private=False)]})

        @app.get("/authorize")
        def authorize() -> Any:
            user = dict(provider.user)
            grant = server.get_consent_grant(end_user=user)  # checks client, redirect URI, PKCE, nonce
            return server.create_authorization_response(grant=grant, grant_user=user)

        @app.post("/token")
        def token() -> Any:
            provider.token_requests += 1
            return server.create_token_response()

        return app

    # -- serving ---------------------------------------------------------------------------

    def start(self) -> str:
        self._server = make_server("127.0.0.1", 0, self.app(), threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.issuer

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
