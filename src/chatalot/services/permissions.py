"""Who may do what in communities, groups and channels: the one place the role hierarchy lives
(spec rest-api 1.16). Services call these; routes never decide permissions.

Role levels: instance owner 5, instance admin 4, owner 3, admin 2, moderator 1, anyone else 0.
Nobody acts on someone at or above their own level (``can_moderate``: strictly greater).

Instance flags come from the caller's access token (as in the original). Fixed here, unlike
the original: nobody acts on the instance owner (``target_level`` gives them the top level
whatever their role in a community or channel), and nobody kicks or bans a community's owner
(``require_removable``: not even instance staff, whose level is above it; that would leave a
community whose owner is not a member; transfer the ownership or delete the community instead).

Three kinds of effective role:

- **community** (``access_community``, the gate of every ``/api/communities/{cid}/...``
  route): instance owner and admins pass as ``instance_owner`` / ``instance_admin`` (members or
  not); anyone else must be a member and not banned (403 otherwise, also for a community that
  does not exist, so outsiders learn nothing), and acts with their stored role;
- **group** (``group_effective_role``): the stored group role; for a personal group, community
  owners, admins and moderators act as group admins; the instance owner acts as group admin
  (owner if they own it); instance admins get no bypass in groups (as in the original);
- **channel** (``channel_effective_role``): instance owner/admin, else the stored channel role,
  else ``member``.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatalot.db.database import Conn
from chatalot.errors import Forbidden, NotFound
from chatalot.ids import CommunityId
from chatalot.repositories import communities as communities_repo
from chatalot.services.actor import Actor

INSTANCE_OWNER = "instance_owner"
INSTANCE_ADMIN = "instance_admin"
OWNER = "owner"
ADMIN = "admin"
MODERATOR = "moderator"
MEMBER = "member"

_LEVELS = {INSTANCE_OWNER: 5, INSTANCE_ADMIN: 4, OWNER: 3, ADMIN: 2, MODERATOR: 1}
TOP_LEVEL = 5

# Stored roles: what the membership tables may hold.
COMMUNITY_ROLES = (OWNER, ADMIN, MODERATOR, MEMBER)
GROUP_ROLES = (OWNER, ADMIN, MEMBER)
CHANNEL_ROLES = (OWNER, ADMIN, MODERATOR, MEMBER)

# Community policies (who_can_create_groups, who_can_create_invites).
POLICIES = ("everyone", "moderator", "admin")


def level(role: str | None) -> int:
    return _LEVELS.get(role or "", 0)


def target_level(stored_role: str | None, *, is_instance_owner: bool) -> int:
    """The level an action is checked against: the target's stored role, except that the
    instance owner is out of everyone's reach."""
    return TOP_LEVEL if is_instance_owner else level(stored_role)


def can_moderate(actor_role: str | None, target: int) -> bool:
    """Strictly above the target's level (``target`` from ``target_level``)."""
    return level(actor_role) > target


def require_removable(stored_role: str | None) -> None:
    """A community's owner cannot be kicked or banned (by anyone)."""
    if stored_role == OWNER:
        raise Forbidden()


def can_delete_others_messages(role: str | None) -> bool:
    return level(role) >= 1


def can_manage_roles(role: str | None) -> bool:
    return level(role) >= 3


def instance_role(actor: Actor) -> str | None:
    if actor.is_owner:
        return INSTANCE_OWNER
    if actor.is_admin:
        return INSTANCE_ADMIN
    return None


# -- communities ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommunityAccess:
    """The caller as seen by one community's gate."""

    community_id: CommunityId
    role: str  # the context role: instance_owner, instance_admin, or the stored role
    member_role: str | None  # the stored membership role (None: not a member)

    @property
    def is_member(self) -> bool:
        return self.member_role is not None

    @property
    def is_manager(self) -> bool:
        """comm-manager: owner, admin, or instance staff."""
        return self.role in (OWNER, ADMIN, INSTANCE_ADMIN, INSTANCE_OWNER)

    @property
    def is_moderator(self) -> bool:
        """comm-mod: moderator or above, or instance staff."""
        return self.is_manager or self.role == MODERATOR

    @property
    def is_owner(self) -> bool:
        """comm-owner: the owner, or instance staff."""
        return self.role in (OWNER, INSTANCE_ADMIN, INSTANCE_OWNER)

    def require_manager(self) -> None:
        if not self.is_manager:
            raise Forbidden()

    def require_moderator(self) -> None:
        if not self.is_moderator:
            raise Forbidden()

    def require_owner(self) -> None:
        if not self.is_owner:
            raise Forbidden()


async def access_community(conn: Conn, actor: Actor, community_id: CommunityId) -> CommunityAccess:
    """The community gate. Raises Forbidden for a banned user or a non-member (also when the
    community does not exist, so outsiders learn nothing); instance staff pass, and get
    NotFound ``community not found`` for a community that does not exist (the original let
    them through to empty answers)."""
    standing = await communities_repo.select_standing(conn, community_id, actor.user_id)
    staff = instance_role(actor)
    if staff is not None:
        if not standing.exists:
            raise NotFound("community not found")
        return CommunityAccess(community_id, staff, standing.role)
    if standing.banned or standing.role is None:
        raise Forbidden()
    return CommunityAccess(community_id, standing.role, standing.role)


def policy_rank(role: str | None) -> int:
    if role in (OWNER, INSTANCE_ADMIN, INSTANCE_OWNER):
        return 3
    if role == ADMIN:
        return 2
    if role == MODERATOR:
        return 1
    return 0


def meets_policy(role: str | None, policy: str) -> bool:
    """Whether a community context role satisfies ``who_can_create_*``."""
    required = {"everyone": 0, "moderator": 1}.get(policy, 2)
    return policy_rank(role) >= required


def is_community_moderator(actor: Actor, community_role: str | None) -> bool:
    """The groups routes' "community moderator": the instance owner, or a stored community
    role of owner, admin or moderator."""
    return actor.is_owner or community_role in (OWNER, ADMIN, MODERATOR)


# -- groups ----------------------------------------------------------------------------------


def group_effective_role(
    actor: Actor,
    *,
    group_role: str | None,
    personal: bool,
    community_role: str | None,
) -> str | None:
    """The caller's role in a group, or None (no access)."""
    if actor.is_owner:
        return OWNER if group_role == OWNER else ADMIN
    if group_role is not None:
        return group_role
    if personal and community_role in (OWNER, ADMIN, MODERATOR):
        return ADMIN
    return None


def is_group_admin(role: str | None) -> bool:
    """grp-admin+."""
    return role in (OWNER, ADMIN)


# -- channels --------------------------------------------------------------------------------


def channel_effective_role(actor: Actor, stored_role: str | None) -> str:
    return instance_role(actor) or stored_role or MEMBER


def is_channel_moderator(role: str) -> bool:
    """ch-mod+."""
    return level(role) >= 1


def is_channel_owner(role: str) -> bool:
    """ch-owner+."""
    return level(role) >= 3
