"""RFC 6962 / RFC 9162 Merkle tree hashing with SHA-256: the prefixes and the two hash rules.

RFC 9162 §2.1.1: ``MTH({}) = SHA-256()``, a leaf is ``SHA-256(0x00 || d)``, an inner node
``SHA-256(0x01 || left || right)``. The one-byte prefixes keep a leaf from ever hashing like a
node (second-preimage resistance). Nothing else lives here.
"""

from __future__ import annotations

import hashlib

__all__ = ["EMPTY_ROOT", "HASH_SIZE", "LEAF_PREFIX", "NODE_PREFIX", "hash_children", "hash_leaf"]

#: RFC 9162 §2.1.1: domain separation byte for leaf hashes.
LEAF_PREFIX = b"\x00"
#: RFC 9162 §2.1.1: domain separation byte for interior node hashes.
NODE_PREFIX = b"\x01"
#: Size in bytes of every hash in the tree (SHA-256).
HASH_SIZE = 32
#: RFC 9162 §2.1.1: the root of the empty tree, ``SHA-256()`` of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def hash_leaf(entry: bytes) -> bytes:
    """RFC 9162 §2.1.1: the leaf hash ``SHA-256(0x00 || entry)``."""
    return _sha256(LEAF_PREFIX + entry).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: the interior node hash ``SHA-256(0x01 || left || right)``."""
    return _sha256(NODE_PREFIX + left + right).digest()
