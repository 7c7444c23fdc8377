"""JWT verification and minting, dev key generation, and per-method access policy.

User and service tokens are RS256 (the identity provider's kind of key). Playback tokens,
minted for every item of every feed page, are EdDSA (Ed25519) with a key of their own:
a signature costs ~50 µs instead of RS256's ~300 µs, and that key can mint nothing else.
"""

from __future__ import annotations

import argparse
import base64
import enum
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from google.protobuf import descriptor_pool

from reels_runtime.config import Config

# The algorithms we sign with and accept, each pinned to its kind of key: that is what
# defeats `alg: none` and the HS256-with-the-public-key confusion attack.
ALGORITHM = "RS256"
PLAYBACK_ALGORITHM = "EdDSA"
PLAYBACK_KEY_FILE = "playback-private.pem"
# Verified tokens remembered at most (clients send the same bearer token with every call).
_VERIFIED_CACHE_SIZE = 20_000  # ~1 kB each (the token and its principal)
_KIND_CLAIM = "reels_kind"
_SERVICE_PREFIX = "svc:"
ADMIN_ROLE = "admin"


class AuthError(Exception):
    """Base of authentication and authorization failures; the message is safe to return."""


class Unauthenticated(AuthError):
    """No credential, or one that does not verify (maps to UNAUTHENTICATED)."""


class PermissionDenied(AuthError):
    """A verified caller that may not do this (maps to PERMISSION_DENIED)."""


class PrincipalKind(enum.StrEnum):
    USER = "user"
    SERVICE = "service"
    PLAYBACK = "playback"


@dataclass(frozen=True)
class Principal:
    """A verified caller."""

    subject: str
    kind: PrincipalKind
    roles: frozenset[str] = frozenset()
    display_name: str | None = None
    # Playback tokens are scoped to one video.
    video_id: str | None = None
    expires_at: float | None = None
    token_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.kind is PrincipalKind.USER and ADMIN_ROLE in self.roles

    @property
    def user_id(self) -> str | None:
        """The end user this principal acts for (None for a service)."""
        return None if self.kind is PrincipalKind.SERVICE else self.subject

    @property
    def service_name(self) -> str | None:
        if self.kind is not PrincipalKind.SERVICE:
            return None
        return self.subject.removeprefix(_SERVICE_PREFIX)

    def describe(self) -> str:
        """A short form for logs: `user:alice`, `svc:media_svc`, `playback:alice`."""
        if self.kind is PrincipalKind.SERVICE:
            return self.subject
        return f"{self.kind.value}:{self.subject}"


class Access(enum.IntEnum):
    """Mirror of `reels.common.v1.Access` (same numbers), importable before gen/ exists."""

    UNSPECIFIED = 0
    PUBLIC = 1
    USER = 2
    PLAYBACK = 3
    INTERNAL = 4
    ADMIN = 5


# ---------------------------------------------------------------------------------------
# Verification


VerifyingKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey


def _algorithm_of(key: VerifyingKey | SigningKey) -> str:
    """The one algorithm a key signs or verifies with: RS256 for RSA, EdDSA for Ed25519."""
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return ALGORITHM
    return PLAYBACK_ALGORITHM


class TokenVerifier:
    """Verifies JWTs against a fixed JWK set, issuer and audience.

    RSA keys verify RS256 tokens of every kind; Ed25519 keys verify EdDSA playback tokens
    only. Verified tokens are remembered until they expire, so a client's bearer token
    sent with every call is checked once, not once per call.
    """

    def __init__(
        self,
        keys: Mapping[str, VerifyingKey],
        issuer: str,
        audience: str,
        *,
        leeway_s: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not keys:
            raise ValueError("a TokenVerifier needs at least one key")
        self._keys = dict(keys)
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_s
        self._clock = clock
        self._verified: dict[str, Principal] = {}

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any], issuer: str, audience: str) -> TokenVerifier:
        keys: dict[str, VerifyingKey] = {}
        for jwk in jwks.get("keys", []):
            # Only RSA keys meant for RS256 and Ed25519 keys meant for EdDSA count;
            # anything else in the set is skipped rather than trusted with an algorithm
            # we do not pin.
            if jwk.get("use", "sig") != "sig" or not jwk.get("kid"):
                continue
            if jwk.get("kty") == "RSA" and jwk.get("alg", ALGORITHM) == ALGORITHM:
                algorithm = ALGORITHM
            elif (
                jwk.get("kty") == "OKP"
                and jwk.get("crv") == "Ed25519"
                and jwk.get("alg", PLAYBACK_ALGORITHM) == PLAYBACK_ALGORITHM
            ):
                algorithm = PLAYBACK_ALGORITHM
            else:
                continue
            key = jwt.PyJWK(jwk, algorithm=algorithm).key
            if isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
                keys[jwk["kid"]] = key
        return cls(keys, issuer, audience)

    @classmethod
    def from_jwks_file(
        cls, path: str | os.PathLike[str], issuer: str, audience: str
    ) -> TokenVerifier:
        try:
            jwks = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise FileNotFoundError(
                f"JWK set {path} not found (run `make keys` or set JWT_JWKS_PATH)"
            ) from None
        return cls.from_jwks(jwks, issuer, audience)

    @classmethod
    def from_config(cls, config: Config) -> TokenVerifier:
        return cls.from_jwks_file(config.jwt_jwks_path, config.jwt_issuer, config.jwt_audience)

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def verify(self, token: str) -> Principal:
        """The token's principal; raises Unauthenticated with the reason otherwise."""
        now = self._clock()
        known = self._verified.get(token)
        if known is not None and known.expires_at is not None:
            if now <= known.expires_at + self._leeway:
                return known
            del self._verified[token]
        principal = self._verify(token)
        if len(self._verified) >= _VERIFIED_CACHE_SIZE:
            self._verified.clear()  # crude but bounded; the next calls refill it
        self._verified[token] = principal
        return principal

    def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthenticated("malformed token") from None
        kid = header.get("kid")
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthenticated("token signed by an unknown key")
        algorithm = _algorithm_of(key)
        if header.get("alg") != algorithm:
            raise Unauthenticated(f"token algorithm must be {algorithm} for key {kid}")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("token not valid yet") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("token audience mismatch") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("token issuer mismatch") from None
        except jwt.MissingRequiredClaimError as error:
            raise Unauthenticated(f"token lacks the {error.claim} claim") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("invalid token") from None
        principal = _principal_from_claims(claims)
        # The playback key mints playback tokens only: it can never pass for a user.
        if algorithm == PLAYBACK_ALGORITHM and principal.kind is not PrincipalKind.PLAYBACK:
            raise Unauthenticated(f"key {kid} signs playback tokens only")
        return principal


def _principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("token subject must be a non-empty string")
    try:
        kind = PrincipalKind(claims.get(_KIND_CLAIM, PrincipalKind.USER.value))
    except ValueError:
        raise Unauthenticated("unknown token kind") from None
    # Subjects are namespaced so a user named "svc:x" can never pass for a service.
    if (kind is PrincipalKind.SERVICE) != subject.startswith(_SERVICE_PREFIX):
        raise Unauthenticated("token subject does not match its kind")
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise Unauthenticated("token roles must be a list of strings")
    video_id = claims.get("vid")
    if kind is PrincipalKind.PLAYBACK and (not isinstance(video_id, str) or not video_id):
        raise Unauthenticated("playback token lacks its video")
    name = claims.get("name")
    return Principal(
        subject=subject,
        kind=kind,
        # Only user tokens carry roles; a playback token must not smuggle admin in.
        roles=frozenset(roles) if kind is PrincipalKind.USER else frozenset(),
        display_name=name if isinstance(name, str) else None,
        video_id=video_id if kind is PrincipalKind.PLAYBACK else None,
        expires_at=float(claims["exp"]),
        token_id=claims.get("jti") if isinstance(claims.get("jti"), str) else None,
    )


# ---------------------------------------------------------------------------------------
# Minting


SigningKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class TokenSigner:
    """Mints tokens with one private key: RS256 with an RSA key (user tokens only for dev
    and tests), EdDSA with the Ed25519 playback key (playback tokens only)."""

    def __init__(
        self,
        private_key: SigningKey,
        kid: str,
        issuer: str,
        audience: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = private_key
        self._algorithm = _algorithm_of(private_key)
        self._kid = kid
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        # The JOSE header is the same for every token this key mints: encoded once.
        header = {"alg": self._algorithm, "kid": kid, "typ": "JWT"}
        self._header_segment = _b64url(json.dumps(header, separators=(",", ":")).encode())

    @classmethod
    def from_pem_file(
        cls,
        path: str | os.PathLike[str],
        kid: str,
        issuer: str,
        audience: str,
        *,
        variable: str = "JWT_PRIVATE_KEY_PATH",
    ) -> TokenSigner:
        try:
            pem = Path(path).read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(
                f"private key {path} not found (run `make keys` or set {variable})"
            ) from None
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
            raise ValueError(f"{path} is neither an RSA nor an Ed25519 private key")
        return cls(key, kid, issuer, audience)

    @classmethod
    def from_config(cls, config: Config) -> TokenSigner:
        """The RS256 signer of user and service tokens."""
        return cls.from_pem_file(
            config.jwt_private_key_path, config.jwt_key_id, config.jwt_issuer, config.jwt_audience
        )

    @classmethod
    def playback_from_config(cls, config: Config) -> TokenSigner:
        """The EdDSA signer of playback tokens (JWT_PLAYBACK_KEY_PATH)."""
        signer = cls.from_pem_file(
            config.jwt_playback_key_path,
            config.jwt_playback_key_id,
            config.jwt_issuer,
            config.jwt_audience,
            variable="JWT_PLAYBACK_KEY_PATH",
        )
        # An RSA key here would mint RS256 tokens under the Ed25519 key's kid, which every
        # verifier refuses: fail at start, naming the variable, instead of at every play.
        if signer._algorithm != PLAYBACK_ALGORITHM:
            raise ValueError(
                f"JWT_PLAYBACK_KEY_PATH ({config.jwt_playback_key_path}) must be an Ed25519 key"
            )
        return signer

    def mint_user(
        self,
        user_id: str,
        name: str | None = None,
        roles: Iterable[str] = (),
        ttl: float = 3600,
    ) -> str:
        if not user_id or user_id.startswith(_SERVICE_PREFIX):
            raise ValueError(f"invalid user id {user_id!r}")
        claims: dict[str, Any] = {_KIND_CLAIM: PrincipalKind.USER.value, "roles": sorted(roles)}
        if name is not None:
            claims["name"] = name
        return self._mint(user_id, ttl, claims)

    def mint_service(self, service_name: str, ttl: float = 300) -> str:
        return self._mint(
            f"{_SERVICE_PREFIX}{service_name}", ttl, {_KIND_CLAIM: PrincipalKind.SERVICE.value}
        )

    def mint_playback(self, user_id: str, video_id: str, ttl: float = 600) -> str:
        if not user_id or user_id.startswith(_SERVICE_PREFIX):
            raise ValueError(f"invalid user id {user_id!r}")
        return self._mint(
            user_id, ttl, {_KIND_CLAIM: PrincipalKind.PLAYBACK.value, "vid": video_id}
        )

    def _mint(self, subject: str, ttl: float, extra: Mapping[str, Any]) -> str:
        # The verifier refuses anything but playback tokens under the playback key; refuse
        # to mint them in the first place.
        playback = extra[_KIND_CLAIM] == PrincipalKind.PLAYBACK.value
        if self._algorithm == PLAYBACK_ALGORITHM and not playback:
            raise ValueError("the playback key mints playback tokens only")
        issued = self._clock()
        now = int(issued)
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            # Rounded up: a token lives at least its ttl, whatever fraction of a second it
            # was minted in (int(now) + ttl gave a 1 s token as little as a few ms).
            "exp": math.ceil(issued + ttl),
            "jti": os.urandom(16).hex(),  # 128 random bits, as a uuid4 holds
            **extra,
        }
        # Compact JWS (RFC 7515) written here rather than by jwt.encode: PyJWT's general
        # path (header merging, claim checks, JSON twice) cost more than the Ed25519
        # signature itself, and a feed page mints a token per item. PyJWT still verifies.
        payload = _b64url(orjson.dumps(claims))
        signing_input = f"{self._header_segment}.{payload}".encode()
        return f"{self._header_segment}.{payload}.{_b64url(self._sign(signing_input))}"

    def _sign(self, signing_input: bytes) -> bytes:
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            return self._key.sign(signing_input)
        return self._key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())


def _b64url(raw: bytes) -> str:
    """base64url without padding, as JWS segments are written."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class ServiceTokenSource:
    """This service's own token, re-minted shortly before it expires."""

    def __init__(
        self,
        signer: TokenSigner,
        service_name: str,
        *,
        ttl_s: float = 300,
        refresh_margin_s: float = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if refresh_margin_s >= ttl_s:
            raise ValueError("refresh_margin_s must be shorter than ttl_s")
        self._signer = signer
        self._service_name = service_name
        self._ttl = ttl_s
        self._margin = refresh_margin_s
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = 0.0

    @classmethod
    def from_config(cls, config: Config) -> ServiceTokenSource:
        """The token source of the service `config` belongs to (SERVICE_NAME)."""
        return cls(TokenSigner.from_config(config), config.service_name)

    def __call__(self) -> str:
        now = self._clock()
        if self._token is None or now >= self._refresh_at:
            self._token = self._signer.mint_service(self._service_name, ttl=self._ttl)
            self._refresh_at = now + self._ttl - self._margin
        return self._token


# ---------------------------------------------------------------------------------------
# Development keys


def public_jwk(private_key: SigningKey, kid: str) -> dict[str, Any]:
    """One key's public JWK with its kid and pinned algorithm."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    else:
        jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private_key.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": _algorithm_of(private_key)})
    return jwk


def public_jwks(private_key: SigningKey, kid: str, *more: tuple[SigningKey, str]) -> dict[str, Any]:
    """The public JWK set for keys, in the form Envoy's `local_jwks` accepts."""
    return {"keys": [public_jwk(key, key_id) for key, key_id in ((private_key, kid), *more)]}


def _write_private_key(path: Path, key: SigningKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Create with 0600 from the start: a chmod after writing leaves a readable window.
    tmp = path.with_suffix(".pem.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    os.replace(tmp, path)


def _load_or_create(
    path: Path, kind: type, create: Callable[[], SigningKey], overwrite: bool
) -> SigningKey:
    if path.exists() and not overwrite:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, kind):
            raise ValueError(f"{path} is not an {kind.__name__}")
        return key
    key = create()
    _write_private_key(path, key)
    return key


def generate_dev_keys(
    directory: str | os.PathLike[str],
    kid: str = "reels-dev-1",
    *,
    playback_kid: str = "reels-playback-dev-1",
    overwrite: bool = False,
) -> tuple[Path, Path]:
    """Writes jwt-private.pem (RSA), playback-private.pem (Ed25519), both 0600, and
    jwks.json with both public keys; existing keys are kept unless overwrite.

    Returns (RSA private key path, JWK set path); the playback key lies beside them
    (PLAYBACK_KEY_FILE).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_path = directory / "jwt-private.pem"
    jwks_path = directory / "jwks.json"
    key = _load_or_create(
        private_path,
        rsa.RSAPrivateKey,
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        overwrite,
    )
    playback = _load_or_create(
        directory / PLAYBACK_KEY_FILE,
        ed25519.Ed25519PrivateKey,
        ed25519.Ed25519PrivateKey.generate,
        overwrite,
    )
    # The JWK set is always rewritten from the keys, so they can never disagree.
    jwks = public_jwks(key, kid, (playback, playback_kid))
    jwks_path.write_text(json.dumps(jwks, indent=2) + "\n")
    return private_path, jwks_path


# ---------------------------------------------------------------------------------------
# Access policy

# Infrastructure services that carry no reels option but must stay reachable.
_PUBLIC_SERVICES = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
    }
)
_policy_cache: dict[str, Access] = {}


def _access_extension() -> Any:
    # Imported lazily: reels_runtime must import even before gen/ has been generated.
    from reels.common.v1 import access_pb2

    return access_pb2.access


def access_policy_for(full_method: str) -> Access:
    """The Access a method demands, from its `(reels.common.v1.access)` option.

    `full_method` is gRPC's path form, `/package.Service/Method`. Unknown methods and
    methods without the option get UNSPECIFIED, which `authorize` always refuses.
    """
    cached = _policy_cache.get(full_method)
    if cached is not None:
        return cached
    service, _, method = full_method.lstrip("/").partition("/")
    if not service or not method:
        return Access.UNSPECIFIED
    if service in _PUBLIC_SERVICES:
        return Access.PUBLIC
    try:
        descriptor = descriptor_pool.Default().FindMethodByName(f"{service}.{method}")
    except KeyError:
        # Not cached: the method's module may simply not be imported yet.
        return Access.UNSPECIFIED
    try:
        extension = _access_extension()
    except ImportError:
        return Access.UNSPECIFIED  # gen/ missing: nothing can be allowed
    options = descriptor.GetOptions()
    value = options.Extensions[extension] if options.HasExtension(extension) else 0
    try:
        policy = Access(value)
    except ValueError:
        policy = Access.UNSPECIFIED  # a value newer than this code: refuse
    _policy_cache[full_method] = policy
    return policy


def authorize(access: Access, principal: Principal | None) -> None:
    """Raises Unauthenticated or PermissionDenied unless `principal` satisfies `access`."""
    if access is Access.PUBLIC:
        return
    if access is Access.UNSPECIFIED:
        raise PermissionDenied("method has no access policy")
    if principal is None:
        raise Unauthenticated("missing bearer token")
    kind = principal.kind
    if access is Access.USER and kind is not PrincipalKind.USER:
        raise PermissionDenied("method requires an end-user token")
    if access is Access.PLAYBACK and kind not in (PrincipalKind.USER, PrincipalKind.PLAYBACK):
        raise PermissionDenied("method requires an end-user or playback token")
    if access is Access.INTERNAL and kind is not PrincipalKind.SERVICE:
        raise PermissionDenied("method is internal to the reels services")
    if access is Access.ADMIN and not (principal.is_admin or kind is PrincipalKind.SERVICE):
        raise PermissionDenied("method requires the admin role")


def check_playback_scope(principal: Principal | None, video_id: str) -> None:
    """Raises PermissionDenied when a playback token was issued for another video.

    End users may play any video they can see; services are refused here because
    playback is not theirs to do.
    """
    if principal is None:
        raise Unauthenticated("missing bearer token")
    if principal.kind is PrincipalKind.USER:
        return
    if principal.kind is PrincipalKind.PLAYBACK and principal.video_id == video_id:
        return
    raise PermissionDenied("playback token was issued for another video")


# ---------------------------------------------------------------------------------------
# CLI: `python -m reels_runtime.auth keys|token`


def _main(argv: Sequence[str] | None = None) -> int:
    from reels_runtime.config import ConfigError

    parser = argparse.ArgumentParser(prog="python -m reels_runtime.auth", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    keys = commands.add_parser("keys", help="create the development signing keys if missing")
    keys.add_argument("--dir", type=Path, help="key directory (default: JWT_PRIVATE_KEY_PATH's)")
    keys.add_argument("--kid", help="key id (default: JWT_KEY_ID)")
    keys.add_argument("--playback-kid", help="playback key id (default: JWT_PLAYBACK_KEY_ID)")
    keys.add_argument("--force", action="store_true", help="replace an existing key")
    token = commands.add_parser("token", help="print a token signed with the development key")
    token.add_argument("--keys", type=Path, help="key directory (default: JWT_PRIVATE_KEY_PATH)")
    token.add_argument("--user", required=True, help="subject (user id)")
    token.add_argument("--name", help="display name claim")
    token.add_argument("--role", action="append", default=[], help="role claim (repeatable)")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    token.add_argument("--video", help="mint a playback token scoped to this video instead")
    args = parser.parse_args(argv)
    try:
        config = Config.from_env(service_name="reels-cli")
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    if args.command == "keys":
        directory = args.dir or config.jwt_private_key_path.parent
        private_path, jwks_path = generate_dev_keys(
            directory,
            args.kid or config.jwt_key_id,
            playback_kid=args.playback_kid or config.jwt_playback_key_id,
            overwrite=args.force,
        )
        print(
            f"signing keys {private_path} and {private_path.parent / PLAYBACK_KEY_FILE}, "
            f"JWK set {jwks_path}",
            file=sys.stderr,
        )
        return 0
    if args.keys:
        config = config.replace(
            jwt_private_key_path=args.keys / "jwt-private.pem",
            jwt_playback_key_path=args.keys / PLAYBACK_KEY_FILE,
        )
    if args.video:
        signer = TokenSigner.playback_from_config(config)
        print(signer.mint_playback(args.user, args.video, ttl=args.ttl))
    else:
        signer = TokenSigner.from_config(config)
        print(signer.mint_user(args.user, name=args.name, roles=args.role, ttl=args.ttl))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
