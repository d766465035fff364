"""Encryption of secrets at rest (Fernet); no Flask imports so services and the CLI share it."""
from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    """Encrypts and decrypts integration secrets with the configured ENCRYPTION_KEY."""

    def __init__(self, key: str):
        try:
            self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
        except (ValueError, TypeError) as exc:
            raise RuntimeError(
                "ENCRYPTION_KEY is not a valid Fernet key (32 url-safe base64-encoded bytes). "
                "Generate one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            ) from exc

    def encrypt(self, plaintext: str) -> bytes:
        """Encrypt a secret for storage."""
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, token: bytes) -> str:
        """Decrypt a stored secret; a wrong key is reported, not crashed on."""
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken as exc:
            raise RuntimeError("A stored secret could not be decrypted: ENCRYPTION_KEY has changed.") from exc


def secret_hint(secret: str) -> str:
    """The last four characters, the only part of a secret ever shown again."""
    return secret[-4:] if len(secret) >= 8 else ""
