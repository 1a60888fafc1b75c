"""Security: password hashing, generated passwords, TOTP second factors, sealed secrets."""

from provisioning.security.hashing import Argon2Hasher
from provisioning.security.passwords import generate_password
from provisioning.security.sealing import SEALED_PREFIX, AesGcmSealer, SealingError
from provisioning.security.totp import Totp

__all__ = [
    "SEALED_PREFIX",
    "AesGcmSealer",
    "Argon2Hasher",
    "SealingError",
    "Totp",
    "generate_password",
]
