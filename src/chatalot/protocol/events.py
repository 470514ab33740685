"""Server -> client events (WebSocket frames pushed by the server), pure data.

Each event is a msgspec Struct tagged on ``type`` with the original's snake_case name, so
``msgspec.json.encode(event)`` gives the exact wire frame, e.g.
``{"type": "user_profile_updated", "user_id": "...", ...}``. Services hand events to
``tx.emit(event, to=...)``; they are published only after the transaction commits.

Keys are always present (``null`` when empty) unless a struct says otherwise.
Add new events at the end of this module, one class per frame.
"""

from __future__ import annotations

from typing import Any

import msgspec


class UserProfileUpdated(msgspec.Struct, tag="user_profile_updated", tag_field="type"):
    """A user's public profile changed (profile edit, avatar/banner/voice background upload or
    removal). Delivered to everyone."""

    user_id: str
    display_name: str
    avatar_url: str | None
    banner_url: str | None
    voice_background_url: str | None
    custom_status: str | None
    bio: str | None
    pronouns: str | None


class CommunityUpdated(msgspec.Struct, tag="community_updated", tag_field="type"):
    """PATCH /api/communities/{cid}: to every member of the community."""

    community_id: str
    name: str
    description: str | None
    icon_url: str | None
    banner_url: str | None
    community_theme: dict[str, object] | None
    welcome_message: str | None


class GroupUpdated(msgspec.Struct, tag="group_updated", tag_field="type"):
    """PATCH /api/groups/{id}: to every member of the group's community."""

    group_id: str
    name: str
    description: str | None
    icon_url: str | None
    banner_url: str | None
    accent_color: str | None
    visibility: str


class GroupDeleted(msgspec.Struct, tag="group_deleted", tag_field="type"):
    """DELETE /api/groups/{id}: to every member of the group's community."""

    group_id: str


class ChannelUpdated(msgspec.Struct, tag="channel_updated", tag_field="type"):
    """PATCH /api/channels/{id}: to the channel's subscribers."""

    channel_id: str
    name: str | None
    topic: str | None
    read_only: bool
    slow_mode_seconds: int
    archived: bool
    voice_background: str | None


class ChannelDeleted(msgspec.Struct, tag="channel_deleted", tag_field="type"):
    """DELETE of a group channel: to every member of the community."""

    channel_id: str


class MemberRoleUpdated(msgspec.Struct, tag="member_role_updated", tag_field="type"):
    """A channel role change (and each half of a channel ownership transfer)."""

    channel_id: str
    user_id: str
    role: str


class MemberKicked(msgspec.Struct, tag="member_kicked", tag_field="type"):
    channel_id: str
    user_id: str
    kicked_by: str


class MemberBanned(msgspec.Struct, tag="member_banned", tag_field="type"):
    channel_id: str
    user_id: str
    banned_by: str


class SenderKeyRotationRequired(
    msgspec.Struct, tag="sender_key_rotation_required", tag_field="type"
):
    """Someone left or was removed: the remaining members must make new sender keys.
    ``reason`` is ``member_removed`` or ``member_left``."""

    channel_id: str
    reason: str


class UserTimedOut(msgspec.Struct, tag="user_timed_out", tag_field="type"):
    channel_id: str
    user_id: str
    expires_at: str
    reason: str | None


class UserWarned(msgspec.Struct, tag="user_warned", tag_field="type"):
    channel_id: str
    user_id: str
    reason: str
    warning_count: int


class KeysLow(msgspec.Struct, tag="keys_low", tag_field="type"):
    """Someone fetched this user's key bundle and fewer than 25 unused one-time prekeys are
    left: to every session of that user (the client uploads a fresh batch)."""

    remaining: int


class SenderKeyUpdated(msgspec.Struct, tag="sender_key_updated", tag_field="type"):
    """POST /api/channels/{id}/sender-keys: to the channel's subscribers. ``distribution`` is the
    uploader's opaque JSON, as stored."""

    channel_id: str
    user_id: str
    chain_id: int
    distribution: Any


class NewMessage(msgspec.Struct, tag="new_message", tag_field="type", omit_defaults=True):
    """A message was stored (WS ``send_message``). Non-DM: the channel's subscribers except
    the sending session; DM: every session of the other member(s). Bytes as arrays of ints;
    ``thread_id`` omitted when none."""

    id: str
    channel_id: str
    sender_id: str
    ciphertext: list[int]
    nonce: list[int]
    message_type: str
    reply_to: str | None
    sender_key_id: str | None
    created_at: str
    thread_id: str | None = None


class MessageEdited(msgspec.Struct, tag="message_edited", tag_field="type"):
    """WS ``edit_message``: to the channel's subscribers (the editor's sessions included)."""

    message_id: str
    channel_id: str
    sender_id: str
    ciphertext: list[int]
    nonce: list[int]
    edited_at: str


class MessageDeleted(msgspec.Struct, tag="message_deleted", tag_field="type"):
    """WS ``delete_message``: to the channel's subscribers."""

    message_id: str


class NewDmChannel(msgspec.Struct, tag="new_dm_channel", tag_field="type"):
    """The first message of a DM: to the recipient's sessions, before its ``new_message``."""

    channel_id: str
    channel_name: str | None
    created_at: str
    other_user_id: str
    other_user_username: str
    other_user_display_name: str
    other_user_avatar_url: str | None


class ReadReceipt(msgspec.Struct, tag="read_receipt", tag_field="type"):
    """WS ``mark_read`` (unless the reader turned read receipts off): to the channel's
    subscribers."""

    channel_id: str
    user_id: str
    message_id: str
    timestamp: str


class ReactionAdded(msgspec.Struct, tag="reaction_added", tag_field="type"):
    """WS ``add_reaction``: to the message's channel's subscribers (also when the reaction
    already existed)."""

    message_id: str
    user_id: str
    emoji: str


class ReactionRemoved(msgspec.Struct, tag="reaction_removed", tag_field="type"):
    """WS ``remove_reaction`` that removed something: to the channel's subscribers."""

    message_id: str
    user_id: str
    emoji: str


class MessagePinned(msgspec.Struct, tag="message_pinned", tag_field="type"):
    """REST pin: to the channel's subscribers."""

    message_id: str
    channel_id: str
    pinned_by: str
    pinned_at: str


class MessageUnpinned(msgspec.Struct, tag="message_unpinned", tag_field="type"):
    """REST unpin: to the channel's subscribers."""

    message_id: str
    channel_id: str


class UserTyping(msgspec.Struct, tag="user_typing", tag_field="type"):
    """WS ``typing`` (at most once per 3 s per user and channel): to the channel's
    subscribers."""

    channel_id: str
    user_id: str


class UserStoppedTyping(msgspec.Struct, tag="user_stopped_typing", tag_field="type"):
    """WS ``stop_typing``, a sent message, 10 s without a new ``typing``, or a disconnect: to
    the channel's subscribers."""

    channel_id: str
    user_id: str


class PresenceUpdate(msgspec.Struct, tag="presence_update", tag_field="type"):
    """A user's presence as others see it (``online``, ``idle``, ``dnd`` or ``offline``;
    ``invisible`` is announced as ``offline``): to their online community mates."""

    user_id: str
    status: str


class PresenceBulk(msgspec.Struct, tag="presence_bulk", tag_field="type"):
    """On connect, to the new session: ``[user_id, status]`` of each online community mate."""

    statuses: list[tuple[str, str]]


class VoiceStateUpdate(msgspec.Struct, tag="voice_state_update", tag_field="type"):
    """The full list of a channel's call participants (authoritative; empty when the call
    ended): to the channel's subscribers on join, leave, kick and clean-up, and to the session
    itself on its ``join_voice`` and ``subscribe``."""

    channel_id: str
    participants: list[str]


class UserJoinedVoice(msgspec.Struct, tag="user_joined_voice", tag_field="type"):
    """``join_voice``: to the channel's subscribers, after its ``voice_state_update``."""

    channel_id: str
    user_id: str


class UserLeftVoice(msgspec.Struct, tag="user_left_voice", tag_field="type"):
    """A participant left the call (``leave_voice``, joining another call, a kick, the 15 s
    disconnect grace, their server process gone): to the channel's subscribers, before the
    ``voice_state_update``."""

    channel_id: str
    user_id: str


class KickedFromVoice(msgspec.Struct, tag="kicked_from_voice", tag_field="type"):
    """``kick_from_voice``: to the channel's subscribers, before ``user_left_voice``."""

    channel_id: str
    user_id: str
    kicked_by: str


class RtcOffer(msgspec.Struct, tag="rtc_offer", tag_field="type"):
    """WebRTC signalling relayed from a call participant: to every session of the target, on
    whichever server process (the same-named client frame carries ``target_user_id``)."""

    from_user_id: str
    session_id: str
    sdp: str


class RtcAnswer(msgspec.Struct, tag="rtc_answer", tag_field="type"):
    from_user_id: str
    session_id: str
    sdp: str


class RtcIceCandidate(msgspec.Struct, tag="rtc_ice_candidate", tag_field="type"):
    from_user_id: str
    session_id: str
    candidate: str


class PollCreated(msgspec.Struct, tag="poll_created", tag_field="type"):
    """REST create poll: to the channel's subscribers."""

    poll_id: str
    channel_id: str
    created_by: str
    question: str


class PollVoted(msgspec.Struct, tag="poll_voted", tag_field="type"):
    """REST vote that added a vote: to the channel's subscribers. ``voter_id`` is null for an
    anonymous poll."""

    poll_id: str
    channel_id: str
    option_index: int
    voter_id: str | None


class PollVoteRemoved(msgspec.Struct, tag="poll_vote_removed", tag_field="type"):
    """A vote removed (a single-select vote moved to another option, before its
    ``poll_voted``; REST remove vote): to the channel's subscribers. ``voter_id`` is null for
    an anonymous poll."""

    poll_id: str
    channel_id: str
    option_index: int
    voter_id: str | None


class PollClosed(msgspec.Struct, tag="poll_closed", tag_field="type"):
    """REST close poll (also when it was closed already): to the channel's subscribers."""

    poll_id: str
    channel_id: str


class Announcement(msgspec.Struct, tag="announcement", tag_field="type"):
    """An instance admin published an announcement: to every connected session.
    ``created_by`` is the admin's id."""

    id: str
    title: str
    body: str
    created_by: str | None
    created_at: str


class CommunityMemberRemoved(msgspec.Struct, tag="community_member_removed", tag_field="type"):
    """Ours, beyond the original (which sends nothing): a member was kicked or banned from a
    community, or left it. To every session of that user only, so an open client drops the
    community at once. ``reason`` is ``kicked``, ``banned`` or ``left``. A ban of a non-member
    sends nothing."""

    community_id: str
    user_id: str
    reason: str
