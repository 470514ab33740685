"""Outbound HTTP: every request the server makes to an address a user chose (link previews)
goes through ``safe_http``, which resolves the host itself, refuses addresses that are not
globally routable and connects to exactly the address it checked."""
