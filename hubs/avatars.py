"""Avatar URLs from Libravatar, the federated service Fedora accounts use."""

from __future__ import annotations

import hashlib

LIBRAVATAR = "https://seccdn.libravatar.org/avatar/"


def avatar_url(username: str, size: int = 64) -> str:
    """The Libravatar image for a Fedora account, by the hash of its fedoraproject.org address."""
    email = f"{username}@fedoraproject.org".encode()
    return f"{LIBRAVATAR}{hashlib.sha256(email).hexdigest()}?s={size}&d=retro"
