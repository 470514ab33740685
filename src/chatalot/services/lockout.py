"""Brute-force protection that a stranger cannot turn against the account's owner.

Failed attempts are counted per scope (``login``, ``recover``, ``totp``, ``reauth``) in two
counters at once, shared by all processes (table ``auth_lockouts``):

- per (account, client address): 10 failures within 15 minutes lock that pair for 15 minutes.
  An attacker locks out only their own address; the owner, elsewhere, is not affected.
- per account, from every address together: 100 failures within 15 minutes lock the account
  for 15 minutes, which bounds a distributed attack (many addresses) to about 100 guesses per
  15 minutes. This ceiling does not apply to addresses the account signed in from (or
  refreshed its session from) in the last 30 days, so even a distributed attacker cannot lock
  the owner out of their usual networks.

Both answer 429 ``rate_limited`` with the caller's message. Counters decay: failures older than
the window no longer count, and a count starts again after its lock expires. A success clears
only the pair counter (the account-wide counter decays on its own, so an attacker cannot reset
it by waiting for the owner to sign in).

Addresses: IPv4 addresses count one by one; IPv6 addresses by their /64 network (one
customer's usual allocation, which an attacker could otherwise walk through). A request without
a known address (``None``) counts as one address, ``unknown``.

Unknown usernames are counted like known ones, and the known-address exemption is looked up by
name in the same way for both, so the lockout reveals nothing about which accounts exist.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta
from enum import Enum

from chatalot.db.database import Conn
from chatalot.errors import RateLimited
from chatalot.repositories import lockouts as lockouts_repo
from chatalot.repositories.lockouts import LockoutRow

PAIR_THRESHOLD = 10
ACCOUNT_THRESHOLD = 100
THRESHOLD = PAIR_THRESHOLD  # failures from one address before it is locked out
WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)
KNOWN_ADDRESS_AGE = timedelta(days=30)  # as long as a refresh token lives

UNKNOWN_ADDRESS = "unknown"
_PAIR_SUFFIX = ":ip"  # scope of the per-(account, address) counters: "login:ip", ...


class Locked(Enum):
    """What a failure just locked."""

    PAIR = "pair"  # this account from this address
    ACCOUNT = "account"  # this account from every address not known to it


def account_key(account: str) -> str:
    """How an account is named in the counters: the trimmed, lower-cased username (usernames
    are unique regardless of case). NUL, which PostgreSQL text cannot hold, is escaped."""
    return account.strip().lower().replace("\\", "\\\\").replace("\x00", "\\0")


def address_key(ip: str | None) -> str:
    """The client address as counted: IPv4 as is, IPv6 as its /64 network, else ``unknown``."""
    if not ip:
        return UNKNOWN_ADDRESS
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return UNKNOWN_ADDRESS
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _pair_scope(scope: str) -> str:
    return scope + _PAIR_SUFFIX


def _pair_subject(account: str, ip: str | None) -> str:
    # the address comes last and never contains "|", so the pair is unambiguous
    return f"{account_key(account)}|{address_key(ip)}"


def _locked_for(row: LockoutRow | None, now: datetime) -> int | None:
    """Seconds left (at least 1) if ``row`` is locked at ``now``, else None."""
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    return max(1, math.ceil((row.locked_until - now).total_seconds()))


async def is_known_address(conn: Conn, account: str, ip: str | None, now: datetime) -> bool:
    """True when the account (by name) signed in or refreshed from ``ip`` (IPv6: its /64)
    within KNOWN_ADDRESS_AGE. Costs the same query for unknown names."""
    wanted = address_key(ip)
    if wanted == UNKNOWN_ADDRESS:
        return False
    addresses = await lockouts_repo.list_recent_session_addresses(
        conn, username=account_key(account), since=now - KNOWN_ADDRESS_AGE
    )
    return any(address_key(a) == wanted for a in addresses)


async def ensure_not_locked(
    conn: Conn, scope: str, account: str, ip: str | None, now: datetime, message: str
) -> None:
    """Raises RateLimited (``message`` with ``{N}`` seconds filled in) while this account is
    locked for this address: its pair counter is locked, or the account-wide one is and the
    address is not one the account is known to use."""
    pair = await lockouts_repo.select_lockout(
        conn, scope=_pair_scope(scope), subject=_pair_subject(account, ip)
    )
    seconds = _locked_for(pair, now)
    if seconds is None:
        whole = await lockouts_repo.select_lockout(conn, scope=scope, subject=account_key(account))
        seconds = _locked_for(whole, now)
        if seconds is not None and await is_known_address(conn, account, ip, now):
            seconds = None
    if seconds is not None:
        raise RateLimited(message.format(N=seconds), retry_after=seconds)


async def record_failure(
    conn: Conn, scope: str, account: str, ip: str | None, now: datetime
) -> Locked | None:
    """Counts a failure in both counters; says which lock this very failure started, if any."""
    pair = await lockouts_repo.record_failure(
        conn,
        scope=_pair_scope(scope),
        subject=_pair_subject(account, ip),
        now=now,
        window=WINDOW,
        threshold=PAIR_THRESHOLD,
        lock_for=LOCK_FOR,
    )
    whole = await lockouts_repo.record_failure(
        conn,
        scope=scope,
        subject=account_key(account),
        now=now,
        window=WINDOW,
        threshold=ACCOUNT_THRESHOLD,
        lock_for=LOCK_FOR,
    )
    if whole.failures == ACCOUNT_THRESHOLD and whole.locked_until is not None:
        return Locked.ACCOUNT
    if pair.failures == PAIR_THRESHOLD and pair.locked_until is not None:
        return Locked.PAIR
    return None


async def clear(conn: Conn, scope: str, account: str, ip: str | None) -> None:
    """After a success: forgets this address's failures for the account (only those)."""
    await lockouts_repo.delete_lockout(
        conn, scope=_pair_scope(scope), subject=_pair_subject(account, ip)
    )
