"""Password hashing with argon2id at OWASP's recommended cost (cheap only in tests)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane.
_OWASP = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_FAST = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


class Passwords:
    """Hash and check passwords; `fast=True` only under the testing configuration."""

    def __init__(self, *, fast: bool = False):
        self._hasher = _FAST if fast else _OWASP
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        if not password_hash:
            return False
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def verify_nothing(self, password: str) -> None:
        """Spend the time of a verification, so a login does not reveal unknown usernames."""
        if self._dummy is None:
            self._dummy = self.hash("no-such-user-placeholder")
        self.verify(self._dummy, password)
