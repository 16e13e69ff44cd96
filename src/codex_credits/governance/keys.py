"""Scoped keys: an id, an owner, scopes and a budget, never the secret.

Theory of operation (docs/governance.md, "Scoped keys"):

* A key's secret is shown once, when :func:`issue_key` makes it. The library
  keeps what key managers keep: a short ``prefix`` (to find the key and to
  show people which key it is) and a salted hash (HMAC-SHA256 of the secret
  under a random per-key salt). :meth:`ApiKey.verify` checks a presented
  secret against the hash with :func:`hmac.compare_digest` (constant time).
* Scopes are allowlists of repositories, APIs, tools and models. A pattern
  matches with shell wildcards (``acme/*``); ``*`` alone allows anything and
  counts as a broad scope in reports (credential sprawl). An empty list
  allows nothing: keys start narrow.
* A key may carry a budget with a window of its own (day, week, sprint,
  month or the billing period), an expiry and a revocation instant. A
  revoked key is refused from that instant on, instantly.

>>> key, secret = issue_key("ci-web", owner="alice", created_at=_T0, salt=bytes(16))
>>> key.verify(secret), key.verify(secret + "x")
(True, False)
>>> secret.startswith(key.prefix) and secret not in repr(key)
True
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Literal, final

from pydantic import Field, field_validator

from codex_credits.core.budgets import Budget, Control
from codex_credits.core.budgetwindow import BudgetWindow, Every
from codex_credits.core.model import Frozen
from codex_credits.core.timeutil import UtcDatetime
from codex_credits.core.units import Ccu

__all__ = [
    "SECRET_PREFIX",
    "ApiKey",
    "KeyScopes",
    "NodeBudget",
    "allowed",
    "hash_secret",
    "issue_key",
]

SECRET_PREFIX = "cck_"
"""Every secret starts with this, so leaked ones are easy to search for."""
_PREFIX_LENGTH = len(SECRET_PREFIX) + 8
_T0 = datetime(2026, 1, 1, tzinfo=UTC)

ScopeKind = Literal["repositories", "apis", "tools", "models"]


def allowed(patterns: tuple[str, ...], item: str) -> bool:
    """True when ``item`` matches one of ``patterns`` (shell wildcards, case-sensitive)."""
    return any(p == "*" or fnmatchcase(item, p) for p in patterns)


@final
class KeyScopes(Frozen):
    """What a key (or the organisation's allowlist) lets through."""

    repositories: tuple[str, ...] = ()
    apis: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    models: tuple[str, ...] = ()

    def allows(self, kind: ScopeKind, item: str) -> bool:
        """True when ``item`` is on the list of ``kind``."""
        patterns: tuple[str, ...] = getattr(self, kind)
        return allowed(patterns, item)

    @property
    def broad(self) -> tuple[str, ...]:
        """The kinds whose list holds a wildcard (``*`` or a pattern with ``*``)."""
        return tuple(
            kind
            for kind in ("repositories", "apis", "tools", "models")
            if any("*" in pattern for pattern in getattr(self, kind))
        )


@final
class NodeBudget(Frozen):
    """A budget of one node of the organisation (organisation, team, user, key, session).

    ``every`` is its window (``billing`` by default; ``day``, ``week``,
    ``sprint`` with ``days`` and ``start``, or ``month``).
    """

    amount: Ccu = Field(ge=0)
    control: Control = Control.HARD_STOP
    every: Every = Every.BILLING
    days: int | None = Field(default=None, ge=1)
    start: UtcDatetime | None = None
    alert_at: tuple[Ccu, ...] = (Decimal(1),)

    @property
    def window(self) -> BudgetWindow:
        """The window as the engine reads it."""
        return BudgetWindow(every=self.every, days=self.days, start=self.start)

    def to_budget(
        self,
        name: str,
        scope: str,
        value: str,
        *,
        members: tuple[str, ...] = (),
        parent: str | None = None,
    ) -> Budget:
        """The engine's :class:`~codex_credits.core.budgets.Budget` for this node."""
        return Budget(
            name=name,
            scope=scope,
            value=value,
            amount=self.amount,
            control=self.control,
            alert_at=self.alert_at,
            members=members,
            parent=parent,
            window=self.window,
        )


@final
class ApiKey(Frozen):
    """A scoped key as stored: its id, owner and scopes, a prefix and a salted hash."""

    id: str = Field(min_length=1)
    owner: str = Field(min_length=1, description="a user or service account id")
    prefix: str = Field(min_length=4, description="the first characters of the secret")
    salt: str = Field(repr=False, description="hex salt of the hash")
    hash: str = Field(repr=False, pattern=r"^[0-9a-f]{64}$", description="HMAC-SHA256, hex")
    scopes: KeyScopes = Field(default_factory=KeyScopes)
    budget: NodeBudget | None = None
    created_at: UtcDatetime | None = None
    expires_at: UtcDatetime | None = None
    revoked_at: UtcDatetime | None = None

    @field_validator("salt")
    @classmethod
    def _hex_salt(cls, value: str) -> str:
        try:
            bytes.fromhex(value)
        except ValueError:
            raise ValueError("salt must be hexadecimal") from None
        return value

    def verify(self, secret: str) -> bool:
        """True when ``secret`` is this key's secret (constant-time comparison)."""
        if not secret.startswith(self.prefix):
            return False
        return hmac.compare_digest(hash_secret(secret, bytes.fromhex(self.salt)), self.hash)

    def revoked(self, at: datetime) -> bool:
        """True when the key is revoked at ``at``."""
        return self.revoked_at is not None and at >= self.revoked_at

    def expired(self, at: datetime) -> bool:
        """True when the key has expired at ``at``."""
        return self.expires_at is not None and at >= self.expires_at

    def revoke(self, at: datetime) -> ApiKey:
        """This key, revoked from ``at`` (a copy built through the constructor)."""
        return ApiKey(**{**dict(self), "revoked_at": at})


def hash_secret(secret: str, salt: bytes) -> str:
    """HMAC-SHA256 of ``secret`` under ``salt``, as hex."""
    return hmac.new(salt, secret.encode("utf-8"), hashlib.sha256).hexdigest()


def issue_key(
    key_id: str,
    owner: str,
    *,
    created_at: datetime,
    scopes: KeyScopes | None = None,
    budget: NodeBudget | None = None,
    expires_at: datetime | None = None,
    salt: bytes | None = None,
    secret: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its secret. Show the secret once; store only the key.

    Args:
        key_id: the key's id (not secret; it appears in logs and reports).
        owner: the user or service account it acts for.
        created_at: when it was made.
        scopes: what it may reach (default: nothing).
        budget: its own budget, if any.
        expires_at: when it stops working.
        salt: the hash salt (default: 16 random bytes; pass one for tests).
        secret: the secret to store the hash of (default: 32 random bytes;
            pass one to import a key made elsewhere, or in tests).

    Raises:
        ValueError: a given secret shorter than 24 characters or without the prefix.
    """
    if secret is None:
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    elif len(secret) < 24 or not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a key secret must start with {SECRET_PREFIX!r} and be 24+ characters")
    salt = secrets.token_bytes(16) if salt is None else salt
    key = ApiKey(
        id=key_id,
        owner=owner,
        prefix=secret[:_PREFIX_LENGTH],
        salt=salt.hex(),
        hash=hash_secret(secret, salt),
        scopes=scopes if scopes is not None else KeyScopes(),
        budget=budget,
        created_at=created_at,
        expires_at=expires_at,
    )
    return key, secret
