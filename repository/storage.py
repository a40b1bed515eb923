"""Content-addressed file store under FILES_ROOT: a file lives at ``ab/cd/<sha256>``.

Writes go to a temporary name in the same folder tree and are renamed into place, so a crash
never leaves a half file under a real name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str
    md5: str
    size: int


class FileStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put_bytes(self, data: bytes, *, durable: bool = True) -> StoredBlob:
        """Store ``data`` (small files: demo data, generated sheets); big uploads stream instead.

        ``durable=False`` skips fsync, for bulk demo loads where speed matters more than a crash.
        """
        blob = StoredBlob(hashlib.sha256(data).hexdigest(), hashlib.md5(data, usedforsecurity=False).hexdigest(), len(data))
        target = self.path_for(blob.sha256)
        if target.exists():
            return blob
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                if durable:
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return blob
