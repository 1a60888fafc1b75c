"""Security: password policy and hashing, TOTP second factors."""

from provisioning.security.hashing import Argon2Hasher
from provisioning.security.passwords import generate_password
from provisioning.security.totp import Totp

__all__ = ["Argon2Hasher", "Totp", "generate_password"]
