"""The organisation as data: users, teams, roles, service accounts and scoped keys.

Theory of operation (docs/governance.md, "The organisation"):

* A :class:`Role` maps to :class:`Permission` values (dispatch, approve an
  override, change budgets, read reports, administer keys). Users and
  service accounts hold roles.
* A :class:`ServiceAccount` is an agent's identity; it is owned by a real
  :class:`User` and can never do more than its owner: its permissions are
  its roles' permissions that its owner also holds, and it stops when its
  owner has left (``left_at``).
* The tree of budgets is organisation -> team -> user or service account ->
  key, plus agent-session pools under their owner: :meth:`Organisation.budgets`
  compiles it into engine budgets (leaf first, so the narrowest node names a
  refusal), each with the nearest budgeted ancestor as its ``parent``.
* Validation reports every problem with its path (``keys.1.owner: ...``):
  a role, team, owner or principal that refers to nothing is an error, as
  are repeated ids.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, final

from pydantic import Field, ValidationError, model_validator

from codex_credits.core.budgets import Budget
from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import format_validation_error
from codex_credits.core.timeutil import UtcDatetime
from codex_credits.errors import ConfigError
from codex_credits.governance.keys import ApiKey, KeyScopes, NodeBudget

__all__ = [
    "Organisation",
    "Permission",
    "Role",
    "ServiceAccount",
    "Team",
    "User",
    "organisation_from_data",
    "validation_problems",
]


_REFERENCES = "organisation references:\n"


class Permission(StrEnum):
    """What a role allows."""

    DISPATCH = "dispatch"
    APPROVE_OVERRIDE = "approve_override"
    CHANGE_BUDGETS = "change_budgets"
    READ_REPORTS = "read_reports"
    ADMINISTER_KEYS = "administer_keys"


@final
class Role(Frozen):
    """A named set of permissions."""

    name: str = Field(min_length=1)
    permissions: tuple[Permission, ...] = ()


@final
class Team(Frozen):
    """A team, with an optional budget of its own."""

    id: str = Field(min_length=1)
    name: str | None = None
    budget: NodeBudget | None = None


@final
class User(Frozen):
    """A person. ``left_at``: when they left the organisation (their agents stop)."""

    id: str = Field(min_length=1)
    name: str | None = None
    team: str | None = None
    roles: tuple[str, ...] = ()
    budget: NodeBudget | None = None
    left_at: UtcDatetime | None = None

    def active(self, at: datetime) -> bool:
        """True when the user is still in the organisation at ``at``."""
        return self.left_at is None or at < self.left_at


@final
class ServiceAccount(Frozen):
    """An agent's identity, owned by a real user.

    ``session_budget`` is the credit pool each orchestrator session of this
    agent shares with the sub-agents it spawns (:meth:`Organisation.pool`).
    """

    id: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    name: str | None = None
    team: str | None = Field(default=None, description="default: the owner's team")
    roles: tuple[str, ...] = ()
    budget: NodeBudget | None = None
    session_budget: NodeBudget | None = None


@final
class Organisation(Frozen):
    """Everything governance knows: see the module docs."""

    name: str = Field(min_length=1)
    budget: NodeBudget | None = None
    allow: KeyScopes | None = Field(
        default=None, description="the organisation's allowlist (None: keys' scopes alone)"
    )
    roles: tuple[Role, ...] = ()
    teams: tuple[Team, ...] = ()
    users: tuple[User, ...] = ()
    service_accounts: tuple[ServiceAccount, ...] = ()
    keys: tuple[ApiKey, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> Organisation:
        problems = _reference_problems(self)
        if problems:
            raise ValueError(_REFERENCES + "\n".join(problems))
        return self

    # -- lookups -------------------------------------------------------------------------

    @property
    def principals(self) -> tuple[User | ServiceAccount, ...]:
        """Every user, then every service account."""
        return (*self.users, *self.service_accounts)

    def role(self, name: str) -> Role | None:
        """The role called ``name``."""
        return next((r for r in self.roles if r.name == name), None)

    def user(self, user_id: str) -> User | None:
        """The user with this id."""
        return next((u for u in self.users if u.id == user_id), None)

    def principal(self, principal_id: str) -> User | ServiceAccount | None:
        """The user or service account with this id."""
        found = self.user(principal_id)
        if found is not None:
            return found
        return next((s for s in self.service_accounts if s.id == principal_id), None)

    def key(self, key_id: str) -> ApiKey | None:
        """The key with this id."""
        return next((k for k in self.keys if k.id == key_id), None)

    def find_key(self, secret: str) -> ApiKey | None:
        """The key whose secret is ``secret`` (found by prefix, checked by hash)."""
        return next((k for k in self.keys if k.verify(secret)), None)

    def owner(self, principal: User | ServiceAccount) -> User | None:
        """The real user behind a principal (itself for a user)."""
        if isinstance(principal, User):
            return principal
        return self.user(principal.owner)

    def team_of(self, principal: User | ServiceAccount) -> str | None:
        """The principal's team (a service account defaults to its owner's)."""
        if principal.team is not None or isinstance(principal, User):
            return principal.team
        owner = self.owner(principal)
        return None if owner is None else owner.team

    def role_names(self, principal: User | ServiceAccount) -> tuple[str, ...]:
        """The roles a principal holds."""
        return principal.roles

    def permissions(self, principal: User | ServiceAccount, at: datetime) -> frozenset[Permission]:
        """What a principal may do at ``at``: nothing once its (owner) user has left."""
        owner = self.owner(principal)
        if owner is None or not owner.active(at):
            return frozenset()
        own = self._role_permissions(principal.roles)
        if isinstance(principal, ServiceAccount):
            return own & self._role_permissions(owner.roles)
        return own

    def _role_permissions(self, names: tuple[str, ...]) -> frozenset[Permission]:
        granted: set[Permission] = set()
        for name in names:
            role = self.role(name)
            if role is not None:
                granted.update(role.permissions)
        return frozenset(granted)

    # -- budgets -------------------------------------------------------------------------

    def budgets(self) -> tuple[Budget, ...]:
        """The budget tree as engine budgets, leaf first (keys, principals, teams, organisation)."""
        out: list[Budget] = []
        for key in self.keys:
            if key.budget is not None:
                parent = self._parent_of_key(key)
                out.append(key.budget.to_budget(f"key:{key.id}", "key", key.id, parent=parent))
        for principal in self.principals:
            if principal.budget is not None:
                out.append(
                    principal.budget.to_budget(
                        f"user:{principal.id}",
                        "user",
                        principal.id,
                        parent=self._team_or_org(self.team_of(principal)),
                    )
                )
        for team in self.teams:
            if team.budget is not None:
                out.append(
                    team.budget.to_budget(
                        f"team:{team.id}",
                        "team",
                        team.id,
                        members=self.members(team.id),
                        parent=self._org_budget(),
                    )
                )
        if self.budget is not None:
            out.append(self.budget.to_budget(f"org:{self.name}", "organisation", self.name))
        return tuple(out)

    def pool(self, session_id: str, principal_id: str, budget: NodeBudget | None = None) -> Budget:
        """The credit pool of an orchestrator session and the sub-agents it spawns.

        ``budget`` defaults to the service account's ``session_budget``.

        Raises:
            ConfigError: an unknown principal, or no budget to use.
        """
        principal = self.principal(principal_id)
        if principal is None:
            raise ConfigError(f"pool for session {session_id!r}: no principal {principal_id!r}")
        if budget is None and isinstance(principal, ServiceAccount):
            budget = principal.session_budget
        if budget is None:
            raise ConfigError(f"pool for session {session_id!r}: {principal_id!r} has no budget")
        return budget.to_budget(
            f"pool:{session_id}", "pool", session_id, parent=self._parent_of_principal(principal)
        )

    def members(self, team_id: str) -> tuple[str, ...]:
        """Ids of the users and service accounts whose team is ``team_id``."""
        return tuple(p.id for p in self.principals if self.team_of(p) == team_id)

    def _org_budget(self) -> str | None:
        return None if self.budget is None else f"org:{self.name}"

    def _team_or_org(self, team_id: str | None) -> str | None:
        team = next((t for t in self.teams if t.id == team_id), None)
        if team is not None and team.budget is not None:
            return f"team:{team.id}"
        return self._org_budget()

    def _parent_of_principal(self, principal: User | ServiceAccount) -> str | None:
        if principal.budget is not None:
            return f"user:{principal.id}"
        return self._team_or_org(self.team_of(principal))

    def _parent_of_key(self, key: ApiKey) -> str | None:
        principal = self.principal(key.owner)
        return None if principal is None else self._parent_of_principal(principal)


def _reference_problems(org: Organisation) -> list[str]:
    problems: list[str] = []
    roles = {r.name for r in org.roles}
    teams = {t.id for t in org.teams}
    users = {u.id for u in org.users}
    accounts = [s.id for s in org.service_accounts]
    for kind, every in (
        ("roles", [r.name for r in org.roles]),
        ("teams", [t.id for t in org.teams]),
        ("users and service_accounts", [*(u.id for u in org.users), *accounts]),
        ("keys", [k.id for k in org.keys]),
    ):
        repeated = sorted({i for i in every if every.count(i) > 1})
        if repeated:
            problems.append(f"{kind}: ids must be unique, repeated: {', '.join(repeated)}")
    groups: tuple[tuple[str, tuple[User | ServiceAccount, ...]], ...] = (
        ("users", org.users),
        ("service_accounts", org.service_accounts),
    )
    for group, principals in groups:
        for i, p in enumerate(principals):
            for name in p.roles:
                if name not in roles:
                    problems.append(f"{group}.{i}.roles: role {name!r} is not defined")
            if p.team is not None and p.team not in teams:
                problems.append(f"{group}.{i}.team: team {p.team!r} is not defined")
    for i, s in enumerate(org.service_accounts):
        if s.owner not in users:
            problems.append(
                f"service_accounts.{i}.owner: {s.owner!r} is not a user "
                "(every agent must be owned by a real user)"
            )
    prefixes = [k.prefix for k in org.keys]
    for i, key in enumerate(org.keys):
        if key.owner not in users and key.owner not in accounts:
            problems.append(f"keys.{i}.owner: {key.owner!r} is not a user or service account")
        if prefixes.count(key.prefix) > 1:
            problems.append(f"keys.{i}.prefix: another key has the prefix {key.prefix!r}")
    return problems


def organisation_from_data(data: Any, source: str = "organisation") -> Organisation:
    """Validate a mapping (policy ``[organisation]`` tables); every problem with its path.

    Raises:
        ConfigError: listing every problem in ``problems``.
    """
    try:
        return Organisation.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc)
        raise ConfigError(f"{source} is invalid:\n  " + "\n  ".join(problems), problems) from None


def validation_problems(exc: ValidationError) -> tuple[str, ...]:
    """One line per problem, ``field.path: message``; the organisation's reference
    problems (one error holding several lines) are split, each under its path."""
    problems: list[str] = []
    for line in format_validation_error(exc):
        head, _, message = line.partition(": ")
        _, marker, listed = message.partition(_REFERENCES)
        if not marker:
            problems.append(message if head == "(card)" else line)
            continue
        for sub in listed.splitlines():
            problems.append(sub if head == "(card)" else f"{head}.{sub}")
    return tuple(problems)
