"""Fixtures for the runtime unit tests: one RSA key pair per session."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from reels_runtime.auth import TokenSigner, TokenVerifier, public_jwks

ISSUER = "reels-test"
AUDIENCE = "reels-test-aud"
KID = "test-key-1"


@pytest.fixture(scope="session")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def signer(private_key: rsa.RSAPrivateKey) -> TokenSigner:
    return TokenSigner(private_key, KID, ISSUER, AUDIENCE)


@pytest.fixture(scope="session")
def verifier(private_key: rsa.RSAPrivateKey) -> TokenVerifier:
    return TokenVerifier.from_jwks(public_jwks(private_key, KID), ISSUER, AUDIENCE)
