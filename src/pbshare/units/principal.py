"""Who is acting. Lives below security so that every domain can type its ``principal`` parameter;
security builds it (login session, bearer token or signed request) and fills the permissions."""

from __future__ import annotations

from dataclasses import dataclass, field

from pbshare.units.service import OFFICE_CODE


@dataclass(frozen=True)
class Principal:
    """Who is acting: a logged-in user (cookie session) or a script (bearer token)."""

    user_id: str
    username: str
    display_name: str
    unit_id: str
    unit_code: str
    roles: frozenset[str]
    permissions: frozenset[str]  # pbshare.security.permissions.Perm values
    via: str  # "session" | "token"
    session_id: str | None = None
    csrf_token: str | None = None
    must_change_password: bool = False
    extra: dict = field(default_factory=dict)

    def has(self, perm: str) -> bool:
        return perm in self.permissions

    @property
    def is_office(self) -> bool:
        return self.unit_code == OFFICE_CODE

    def can_see_unit(self, unit_id: str) -> bool:
        """Unit operators and API clients see only their own unit; the office's staff see all."""
        return self.is_office or unit_id == self.unit_id
