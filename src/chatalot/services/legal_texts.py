"""The built-in privacy policy and terms of service (markdown), shown when the instance's
administrator has not put their own documents in the data directory.

Written for this server: they describe what it actually stores and sends, and mention the
optional outside services only when they are configured. Plain text, no templating engine:
the only inputs are the instance name and which optional services are on.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_INSTANCE_NAME = "this Chatalot instance"


@dataclass(frozen=True, slots=True)
class InstanceFacts:
    """What the default documents need to know about this instance."""

    name: str  # PUBLIC_URL, or "this Chatalot instance"
    feedback_to_github: bool = False
    gif_search: bool = False
    web_push: bool = False


def _outside_services(facts: InstanceFacts) -> str:
    items = []
    if facts.feedback_to_github:
        items.append(
            "- **Feedback**: when you send feedback from the app, its title, description, "
            "category and your username are also published as an issue in the project's "
            "GitHub repository (screenshots stay on this server)."
        )
    if facts.gif_search:
        items.append(
            "- **GIF search**: your search words are passed to GIPHY by the server; GIFs you "
            "pick are loaded from GIPHY's servers by your device."
        )
    if facts.web_push:
        items.append(
            "- **Push notifications**: if you turn them on, notifications are delivered "
            "through your browser vendor's push service. They say that something happened, "
            "not what an encrypted message says."
        )
    if not items:
        return (
            "The server does not send your data to any other company. It contains no "
            "advertising, analytics or tracking code."
        )
    listed = "\n".join(items)
    return (
        "The server contains no advertising, analytics or tracking code. It only talks to "
        f"outside services for these features:\n\n{listed}"
    )


def privacy_policy(facts: InstanceFacts) -> str:
    name = facts.name
    return f"""# Privacy Policy

This policy covers **{name}**, a chat server run with the Chatalot software by its own
administrator. It explains what the server keeps about you, what it can and cannot read,
and what you can do about it.

## What is stored

- **Your account**: username, e-mail address, display name and, if you add them, avatar,
  banner, bio, pronouns and status. Your password is never stored, only an Argon2id hash of
  it; recovery and backup codes are stored as hashes too.
- **Your messages and files**: what you send in channels and direct messages, files you
  upload, reactions, pins, bookmarks and polls.
- **Your devices**: for every signed-in device, its name (for example "Firefox on Linux"),
  its IP address and when it signed in, so that you can see and end your sessions.
- **Security records**: sign-ins, failed sign-in attempts and other security events, with
  the IP address and time, so that the administrator can spot abuse.
- **Feedback** you choose to send, including a screenshot if you attach one.

## End-to-end encryption

When end-to-end encryption is enabled on this instance (it is by default), your messages
are encrypted on your own device before they are sent, and only the people in the
conversation hold the keys. The server stores and forwards the encrypted text; it cannot
turn it back into your words. Your public keys are stored so that others can start
encrypted conversations with you; your private keys never leave your devices.

## What the server can and cannot see

| The server can see | The server cannot see |
|---|---|
| Who sent a message, where and when | The text of an encrypted message |
| Names, sizes and types of uploaded files | The contents of encrypted files |
| Your username, e-mail and profile | Your password |
| When you are online, and your IP address | Your private encryption keys |
| Which channels and communities you are in | What you type before you send it |

## How long data is kept

- Messages and files are kept until you or a moderator delete them, or until a channel's
  disappearing-message timer removes them.
- A signed-in session lasts at most 30 days unless you end it sooner.
- Security records are kept as long as the administrator needs them to protect the server.
- Deleting your account removes your profile and sessions.

## Other companies

{_outside_services(facts)}

## Your choices and rights

- You can edit your profile, change your password and regenerate your recovery code.
- You can see every signed-in device and sign any of them out.
- You can delete your account from the settings.
- For anything else (a copy of your data, a correction, a question), contact the
  administrator of {name}.

## Who is responsible

The administrator of **{name}** decides how this server is run, secured and backed up, and
is responsible for the data on it. The people who write the Chatalot software do not run
this server and cannot see its data.

*This is the default policy that comes with the software. The administrator can replace it
with their own.*
"""


def terms_of_service(facts: InstanceFacts) -> str:
    name = facts.name
    return f"""# Terms of Service

## A self-hosted service

**{name}** runs Chatalot, free and open-source chat software. This server is set up and
run independently by its administrator, not by the authors of the software.

## Agreeing to these terms

By creating an account or using this service you accept these terms and the Privacy Policy.
If you do not accept them, do not use the service.

## What we expect from you

- Keep your password, recovery code and backup codes to yourself, and store your recovery
  code somewhere safe: it is the only way to reset a forgotten password without the
  administrator's help.
- Do not use the service to break the law, to harass other people, to send spam, or to
  attack the server or its users.
- Follow the rules of the communities and channels you join.

## What the administrator takes care of

- Keeping the server running, up to date and secure, and keeping backups.
- Deciding and enforcing the rules of this instance.
- Answering requests from users and, where the law requires it, from authorities.

## No warranty

The software is provided "as is", without any warranty. Neither the administrator nor the
authors of the software promise that the service will always be available, free of errors
or free of data loss, and the authors of the software are not responsible for what is
posted on any server or for any harm that comes from using it.

## Ending your account

- You can delete your account at any time from the settings.
- The administrator may suspend or remove accounts that break these terms.
- A deleted account cannot be restored.

## Trust

End-to-end encryption protects what your messages say, but the administrator controls the
server itself. Only share sensitive information on an instance whose administrator you
trust.

## Changes to these terms

The administrator may change these terms. If you keep using the service after a change, you
accept the new terms.

*These are the default terms that come with the software. The administrator can replace
them with their own.*
"""
