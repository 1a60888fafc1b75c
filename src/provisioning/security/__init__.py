"""Security: password policy and hashing, TOTP second factors."""

from provisioning.security.hashing import Argon2Hasher
from provisioning.security.passwords import COMMON_PASSWORDS, PasswordPolicy, generate_password
from provisioning.security.totp import Totp

__all__ = ["COMMON_PASSWORDS", "Argon2Hasher", "PasswordPolicy", "Totp", "generate_password"]
