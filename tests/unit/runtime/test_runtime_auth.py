"""JWT verification and minting, dev keys, the CLI, and the access policy table."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from reels_runtime.auth import (
    PLAYBACK_KEY_FILE,
    Access,
    PermissionDenied,
    Principal,
    PrincipalKind,
    ServiceTokenSource,
    TokenSigner,
    TokenVerifier,
    Unauthenticated,
    access_policy_for,
    authorize,
    check_playback_scope,
    generate_dev_keys,
    public_jwks,
)

from .conftest import AUDIENCE, ISSUER, KID

REPO = Path(__file__).resolve().parents[3]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _rs256(private_key: rsa.RSAPrivateKey, claims: dict[str, object], kid: str = KID) -> str:
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": kid})


# --- verification --------------------------------------------------------------------


def test_a_minted_user_token_verifies(signer: TokenSigner, verifier: TokenVerifier) -> None:
    principal = verifier.verify(signer.mint_user("alice", name="Alice", roles=["admin"]))
    assert principal.subject == "alice"
    assert principal.kind is PrincipalKind.USER
    assert principal.display_name == "Alice"
    assert principal.roles == frozenset({"admin"})
    assert principal.is_admin
    assert principal.user_id == "alice"
    assert principal.describe() == "user:alice"


def test_a_foreign_user_token_without_reels_kind_is_a_user(
    private_key: rsa.RSAPrivateKey, verifier: TokenVerifier
) -> None:
    principal = verifier.verify(_rs256(private_key, _claims(name="Bob", sub="bob")))
    assert principal == Principal(
        subject="bob",
        kind=PrincipalKind.USER,
        display_name="Bob",
        expires_at=principal.expires_at,
    )


def test_service_and_playback_tokens(signer: TokenSigner, verifier: TokenVerifier) -> None:
    service = verifier.verify(signer.mint_service("media_svc"))
    assert service.kind is PrincipalKind.SERVICE
    assert service.subject == "svc:media_svc"
    assert service.service_name == "media_svc"
    assert service.user_id is None
    playback = verifier.verify(signer.mint_playback("alice", "video-1"))
    assert playback.kind is PrincipalKind.PLAYBACK
    assert playback.video_id == "video-1"
    assert playback.user_id == "alice"
    assert playback.expires_at is not None
    assert playback.expires_at - time.time() == pytest.approx(600, abs=5)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "evil-issuer"}, "issuer"),
        ({"nbf": int(time.time()) + 3600}, "not valid yet"),
        ({"sub": None}, "sub"),
        ({"exp": None}, "exp"),
        ({"aud": None}, "aud"),
        ({"iss": None}, "iss"),
        ({"reels_kind": "superuser"}, "kind"),
        ({"reels_kind": "service", "sub": "alice"}, "subject does not match"),
        ({"sub": "svc:media_svc"}, "subject does not match"),
        ({"reels_kind": "playback"}, "video"),
        ({"roles": "admin"}, "roles"),
    ],
)
def test_bad_claims_are_rejected(
    private_key: rsa.RSAPrivateKey,
    verifier: TokenVerifier,
    overrides: dict[str, object],
    reason: str,
) -> None:
    token = _rs256(private_key, _claims(**overrides))
    with pytest.raises(Unauthenticated, match=reason):
        verifier.verify(token)


def test_alg_none_is_rejected(verifier: TokenVerifier) -> None:
    header = _b64(json.dumps({"alg": "none", "kid": KID, "typ": "JWT"}).encode())
    token = f"{header}.{_b64(json.dumps(_claims()).encode())}."
    with pytest.raises(Unauthenticated, match="RS256"):
        verifier.verify(token)


def test_hs256_signed_with_the_public_key_is_rejected(
    private_key: rsa.RSAPrivateKey, verifier: TokenVerifier
) -> None:
    # The classic key-confusion attack: HMAC keyed with the (public) RSA key's PEM.
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "kid": KID, "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims(roles=["admin"])).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(Unauthenticated, match="RS256"):
        verifier.verify(f"{header}.{payload}.{_b64(signature)}")


def test_unknown_or_missing_kid_is_rejected(
    private_key: rsa.RSAPrivateKey, verifier: TokenVerifier
) -> None:
    with pytest.raises(Unauthenticated, match="unknown key"):
        verifier.verify(_rs256(private_key, _claims(), kid="rotated-away"))
    with pytest.raises(Unauthenticated, match="unknown key"):
        verifier.verify(jwt.encode(_claims(), private_key, algorithm="RS256"))


@pytest.mark.security
def test_a_token_signed_by_another_key_is_rejected(verifier: TokenVerifier) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthenticated, match="invalid token"):
        verifier.verify(_rs256(other, _claims()))


@pytest.mark.security
def test_garbage_and_tampered_tokens_are_rejected(
    signer: TokenSigner, verifier: TokenVerifier
) -> None:
    with pytest.raises(Unauthenticated, match="malformed"):
        verifier.verify("not-a-jwt")
    header, payload, signature = signer.mint_user("alice").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["admin"]
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(Unauthenticated, match="invalid token"):
        verifier.verify(forged)


@pytest.mark.security
def test_playback_tokens_cannot_carry_roles(
    private_key: rsa.RSAPrivateKey, verifier: TokenVerifier
) -> None:
    token = _rs256(private_key, _claims(reels_kind="playback", vid="v1", roles=["admin"]))
    principal = verifier.verify(token)
    assert principal.roles == frozenset()
    assert not principal.is_admin


def test_jwks_keys_for_other_algorithms_are_ignored(private_key: rsa.RSAPrivateKey) -> None:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    jwks = {"keys": [{**jwk, "kid": "k1", "alg": "RS512"}, {**jwk, "kid": "k2", "use": "enc"}]}
    with pytest.raises(ValueError, match="at least one key"):
        TokenVerifier.from_jwks(jwks, ISSUER, AUDIENCE)


# --- the Ed25519 playback key --------------------------------------------------------

PLAYBACK_KID = "playback-1"


@pytest.fixture(scope="module")
def playback_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def both_keys(
    private_key: rsa.RSAPrivateKey, playback_key: ed25519.Ed25519PrivateKey
) -> TokenVerifier:
    jwks = public_jwks(private_key, KID, (playback_key, PLAYBACK_KID))
    assert [k["alg"] for k in jwks["keys"]] == ["RS256", "EdDSA"]
    return TokenVerifier.from_jwks(jwks, ISSUER, AUDIENCE)


def test_eddsa_playback_tokens_verify_beside_rs256_ones(
    signer: TokenSigner, playback_key: ed25519.Ed25519PrivateKey, both_keys: TokenVerifier
) -> None:
    playback = TokenSigner(playback_key, PLAYBACK_KID, ISSUER, AUDIENCE)
    token = playback.mint_playback("alice", "video-1")
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    principal = both_keys.verify(token)
    assert (principal.kind, principal.subject, principal.video_id) == (
        PrincipalKind.PLAYBACK,
        "alice",
        "video-1",
    )
    # Tokens from before the playback key (RS256) stay valid for their lifetime.
    assert both_keys.verify(signer.mint_playback("bob", "video-2")).video_id == "video-2"
    assert both_keys.verify(signer.mint_user("carol")).kind is PrincipalKind.USER


def test_minted_tokens_are_standard_compact_jws_for_either_key(
    signer: TokenSigner, private_key: rsa.RSAPrivateKey, playback_key: ed25519.Ed25519PrivateKey
) -> None:
    """The signer writes the JWS itself (not through jwt.encode): PyJWT, as any other JWT
    library would, reads the header and checks the signature with the bare public key."""
    playback = TokenSigner(playback_key, PLAYBACK_KID, ISSUER, AUDIENCE)
    cases = [
        (playback.mint_playback("alice", "video-ü"), playback_key, "EdDSA", PLAYBACK_KID),
        (signer.mint_user("bob", name="Bøb"), private_key, "RS256", KID),
    ]
    for token, key, algorithm, kid in cases:
        assert "=" not in token and token.count(".") == 2  # base64url, unpadded
        assert jwt.get_unverified_header(token) == {"alg": algorithm, "kid": kid, "typ": "JWT"}
        claims = jwt.decode(
            token, key.public_key(), algorithms=[algorithm], audience=AUDIENCE, issuer=ISSUER
        )
        assert claims["exp"] > claims["iat"] == claims["nbf"]
        assert len(claims["jti"]) == 32
        header, payload, signature = token.split(".")
        mid = len(signature) // 2  # a character that holds six bits of the signature
        flipped = "A" if signature[mid] != "A" else "B"
        forged = f"{header}.{payload}.{signature[:mid]}{flipped}{signature[mid + 1 :]}"
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(forged, key.public_key(), algorithms=[algorithm], audience=AUDIENCE)
    assert jwt.decode(cases[0][0], options={"verify_signature": False})["vid"] == "video-ü"
    # Two tokens minted in the same second still differ (jti).
    assert playback.mint_playback("alice", "v") != playback.mint_playback("alice", "v")


@pytest.mark.security
def test_the_playback_key_can_mint_nothing_but_playback_tokens(
    playback_key: ed25519.Ed25519PrivateKey, both_keys: TokenVerifier
) -> None:
    playback = TokenSigner(playback_key, PLAYBACK_KID, ISSUER, AUDIENCE)
    with pytest.raises(ValueError, match="playback tokens only"):
        playback.mint_user("mallory")
    with pytest.raises(ValueError, match="playback tokens only"):
        playback.mint_service("media_svc")
    # Signed by hand, a user or service token under that key is still refused.
    for claims in (
        _claims(sub="mallory", roles=["admin"]),
        _claims(sub="svc:media_svc", reels_kind="service"),
    ):
        token = jwt.encode(claims, playback_key, algorithm="EdDSA", headers={"kid": PLAYBACK_KID})
        with pytest.raises(Unauthenticated, match="playback tokens only"):
            both_keys.verify(token)


@pytest.mark.security
def test_each_key_verifies_its_own_algorithm_only(
    private_key: rsa.RSAPrivateKey,
    playback_key: ed25519.Ed25519PrivateKey,
    both_keys: TokenVerifier,
) -> None:
    playback_claims = _claims(reels_kind="playback", vid="v1")
    # An RS256 token naming the Ed25519 key's kid, and an EdDSA one naming the RSA key's.
    with pytest.raises(Unauthenticated, match="must be EdDSA"):
        both_keys.verify(_rs256(private_key, playback_claims, kid=PLAYBACK_KID))
    with pytest.raises(Unauthenticated, match="must be RS256"):
        both_keys.verify(
            jwt.encode(playback_claims, playback_key, algorithm="EdDSA", headers={"kid": KID})
        )
    other = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(Unauthenticated, match="invalid token"):
        both_keys.verify(
            jwt.encode(playback_claims, other, algorithm="EdDSA", headers={"kid": PLAYBACK_KID})
        )


def test_a_misconfigured_playback_key_fails_at_start_naming_its_variable(
    tmp_path: Path,
) -> None:
    from reels_runtime.config import Config

    private_path, _ = generate_dev_keys(tmp_path / "keys", "kid-a")
    missing = Config.from_env(
        {"JWT_PLAYBACK_KEY_PATH": str(tmp_path / "nowhere.pem")}, service_name="test"
    )
    with pytest.raises(FileNotFoundError, match="JWT_PLAYBACK_KEY_PATH"):
        TokenSigner.playback_from_config(missing)
    rsa_instead = Config.from_env({"JWT_PLAYBACK_KEY_PATH": str(private_path)}, service_name="test")
    with pytest.raises(ValueError, match=r"JWT_PLAYBACK_KEY_PATH .* must be an Ed25519 key"):
        TokenSigner.playback_from_config(rsa_instead)
    playback = Config.from_env(
        {"JWT_PLAYBACK_KEY_PATH": str(private_path.parent / PLAYBACK_KEY_FILE)},
        service_name="test",
    )
    token = TokenSigner.playback_from_config(playback).mint_playback("alice", "v1")
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"


def test_a_verified_token_is_remembered_until_it_expires(
    private_key: rsa.RSAPrivateKey, signer: TokenSigner
) -> None:
    verifier = TokenVerifier({KID: private_key.public_key()}, ISSUER, AUDIENCE, leeway_s=0)
    token = signer.mint_user("alice", ttl=1)
    first = verifier.verify(token)
    assert verifier.verify(token) is first  # the second call did not decode again
    time.sleep(max(0.0, (first.expires_at or 0) - time.time()) + 1.05)
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(token)
    with pytest.raises(Unauthenticated, match="invalid token"):
        verifier.verify(token[:-4] + "AAAA")  # a tampered copy is never a cache hit


def test_service_token_source_refreshes_before_expiry(
    private_key: rsa.RSAPrivateKey, verifier: TokenVerifier
) -> None:
    now = [1_000_000.0]
    signer = TokenSigner(private_key, KID, ISSUER, AUDIENCE, clock=lambda: now[0])
    source = ServiceTokenSource(
        signer, "ranking_svc", ttl_s=300, refresh_margin_s=60, clock=lambda: now[0]
    )
    first = source()
    now[0] += 200
    assert source() == first
    now[0] += 41  # 241 s in: inside the refresh margin
    second = source()
    assert second != first
    claims = jwt.decode(second, options={"verify_signature": False})
    assert claims["exp"] == int(now[0]) + 300
    assert claims["sub"] == "svc:ranking_svc"


# --- dev keys and CLI ------------------------------------------------------------------


def test_generate_dev_keys_writes_a_private_key_and_a_jwks(tmp_path: Path) -> None:
    private_path, jwks_path = generate_dev_keys(
        tmp_path / "keys", "kid-a", playback_kid="kid-playback"
    )
    playback_path = private_path.parent / PLAYBACK_KEY_FILE
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(playback_path.stat().st_mode) == 0o600
    jwks = json.loads(jwks_path.read_text())
    rsa_jwk, okp_jwk = jwks["keys"]
    assert (rsa_jwk["kid"], rsa_jwk["alg"], rsa_jwk["kty"]) == ("kid-a", "RS256", "RSA")
    assert (okp_jwk["kid"], okp_jwk["alg"], okp_jwk["kty"]) == ("kid-playback", "EdDSA", "OKP")
    assert okp_jwk["crv"] == "Ed25519"
    for jwk in (rsa_jwk, okp_jwk):
        assert jwk["use"] == "sig"
        assert "d" not in jwk  # no private material in the published set
    signer = TokenSigner.from_pem_file(private_path, "kid-a", "iss", "aud")
    playback = TokenSigner.from_pem_file(playback_path, "kid-playback", "iss", "aud")
    verifier = TokenVerifier.from_jwks_file(jwks_path, "iss", "aud")
    assert verifier.verify(signer.mint_user("carol")).subject == "carol"
    assert verifier.verify(playback.mint_playback("carol", "v9")).video_id == "v9"
    # Running it again keeps the key (tokens already handed out stay valid).
    before = private_path.read_bytes()
    playback_before = playback_path.read_bytes()
    generate_dev_keys(tmp_path / "keys", "kid-a", playback_kid="kid-playback")
    assert private_path.read_bytes() == before
    assert playback_path.read_bytes() == playback_before
    generate_dev_keys(tmp_path / "keys", "kid-a", overwrite=True)
    assert private_path.read_bytes() != before
    assert playback_path.read_bytes() != playback_before


def test_cli_makes_keys_and_prints_a_token(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": f"{REPO / 'gen'}{os.pathsep}{REPO}",
        "JWT_ISSUER": "cli-iss",
        "JWT_AUDIENCE": "cli-aud",
        "JWT_KEY_ID": "cli-kid",
    }
    keys_dir = tmp_path / "keys"

    def cli(*args: str) -> str:
        """`python -m reels_runtime.auth ...`'s standard output."""
        return subprocess.run(
            [sys.executable, "-m", "reels_runtime.auth", *args],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        ).stdout

    cli("keys", "--dir", str(keys_dir))
    token = cli(
        *("token", "--keys", str(keys_dir), "--user", "alice", "--name", "Alice"),
        *("--role", "admin", "--ttl", "120"),
    ).strip()
    assert "\n" not in token  # `TOKEN=$(make -s token)` must get the bare token
    verifier = TokenVerifier.from_jwks_file(keys_dir / "jwks.json", "cli-iss", "cli-aud")
    principal = verifier.verify(token)
    assert principal.subject == "alice"
    assert principal.display_name == "Alice"
    assert principal.is_admin
    assert principal.expires_at is not None
    assert principal.expires_at - time.time() == pytest.approx(120, abs=5)
    # --video mints a playback token with the Ed25519 playback key.
    playback = cli("token", "--keys", str(keys_dir), "--user", "al", "--video", "video-7").strip()
    assert jwt.get_unverified_header(playback)["alg"] == "EdDSA"
    assert verifier.verify(playback).video_id == "video-7"


# --- access policy ---------------------------------------------------------------------


def test_access_enum_mirrors_the_proto() -> None:
    from reels.common.v1 import access_pb2

    assert {f"ACCESS_{member.name}": member.value for member in Access} == dict(
        access_pb2.Access.items()
    )


def test_access_policy_comes_from_the_method_options() -> None:
    from reels.media.v1 import media_service_pb2  # noqa: F401 - registers the descriptors
    from reels.stream.v1 import stream_service_pb2  # noqa: F401

    assert access_policy_for("/reels.media.v1.MediaService/GetVideoStatus") is Access.USER
    assert (
        access_policy_for("/reels.media.v1.MediaService/GetVideoProcessingHealth") is Access.PUBLIC
    )
    assert access_policy_for("/reels.media.v1.MediaService/BatchGetVideos") is Access.INTERNAL
    assert access_policy_for("/reels.media.v1.MediaService/ListFailedVideos") is Access.ADMIN
    assert access_policy_for("/reels.stream.v1.StreamService/GetSegment") is Access.PLAYBACK
    assert access_policy_for("/grpc.health.v1.Health/Check") is Access.PUBLIC
    assert access_policy_for("/grpc.health.v1.Health/Watch") is Access.PUBLIC
    reflection = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
    assert access_policy_for(reflection) is Access.PUBLIC


@pytest.mark.parametrize(
    "method",
    [
        "/reels.media.v1.MediaService/NoSuchMethod",
        "/no.such.Service/Call",
        "/google.protobuf.Empty/Nothing",
        "garbage",
        "",
    ],
)
def test_unknown_methods_fail_closed(method: str) -> None:
    assert access_policy_for(method) is Access.UNSPECIFIED
    with pytest.raises(PermissionDenied, match="no access policy"):
        authorize(access_policy_for(method), _user(roles={"admin"}))


def _user(roles: set[str] | None = None) -> Principal:
    return Principal("alice", PrincipalKind.USER, roles=frozenset(roles or ()))


_SERVICE = Principal("svc:media_svc", PrincipalKind.SERVICE)
_PLAYBACK = Principal("alice", PrincipalKind.PLAYBACK, video_id="v1")
_ALLOWED = "allowed"


@pytest.mark.parametrize(
    ("access", "principal", "outcome"),
    [
        (Access.PUBLIC, None, _ALLOWED),
        (Access.PUBLIC, _SERVICE, _ALLOWED),
        (Access.USER, None, Unauthenticated),
        (Access.USER, _user(), _ALLOWED),
        (Access.USER, _SERVICE, PermissionDenied),
        (Access.USER, _PLAYBACK, PermissionDenied),
        (Access.PLAYBACK, None, Unauthenticated),
        (Access.PLAYBACK, _user(), _ALLOWED),
        (Access.PLAYBACK, _PLAYBACK, _ALLOWED),
        (Access.PLAYBACK, _SERVICE, PermissionDenied),
        (Access.INTERNAL, None, Unauthenticated),
        (Access.INTERNAL, _SERVICE, _ALLOWED),
        (Access.INTERNAL, _user({"admin"}), PermissionDenied),
        (Access.ADMIN, None, Unauthenticated),
        (Access.ADMIN, _user(), PermissionDenied),
        (Access.ADMIN, _user({"admin"}), _ALLOWED),
        (Access.ADMIN, _SERVICE, _ALLOWED),
        (Access.ADMIN, _PLAYBACK, PermissionDenied),
        (Access.UNSPECIFIED, _user({"admin"}), PermissionDenied),
    ],
)
@pytest.mark.security
def test_authorize(access: Access, principal: Principal | None, outcome: object) -> None:
    if outcome == _ALLOWED:
        authorize(access, principal)
    else:
        with pytest.raises(outcome):  # type: ignore[call-overload]
            authorize(access, principal)


def test_playback_scope() -> None:
    check_playback_scope(_PLAYBACK, "v1")
    check_playback_scope(_user(), "any-video")
    with pytest.raises(PermissionDenied, match="another video"):
        check_playback_scope(_PLAYBACK, "v2")
    with pytest.raises(PermissionDenied):
        check_playback_scope(_SERVICE, "v1")
    with pytest.raises(Unauthenticated):
        check_playback_scope(None, "v1")
