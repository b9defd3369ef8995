"""Reading a user's file: only regular files, never more than a stated number of bytes.

``stat`` says 0 bytes for a FIFO or a device, so a size check before reading lets
``/dev/zero`` through (it reads forever) and opening a FIFO blocks until a writer comes. Here
the file is opened without blocking, checked on the open descriptor (so it cannot be swapped
between the check and the read), and read up to one byte past the limit.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MiB = 2**20


class ReadError(Exception):
    """A file could not be read; the message says why in a user's words (no path: the caller shows it)."""


_REASONS = {
    errno.ENOENT: "not found",
    errno.ENOTDIR: "not found (a part of its path is a file, not a folder)",
    errno.EACCES: "cannot be read (permission denied)",
    errno.EPERM: "cannot be read (permission denied)",
    errno.ELOOP: "cannot be read: its path is a loop of symbolic links",
    errno.ENAMETOOLONG: "cannot be read: its path is too long",
    errno.EISDIR: "is a folder, not a file",
}


def read_bytes(path: str | Path, limit: int) -> bytes:
    """The contents of the regular file ``path``, at most ``limit`` bytes, or ``ReadError``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ReadError(_REASONS.get(exc.errno or 0, f"cannot be read ({exc.strerror})")) from None
    except ValueError:  # a NUL byte in the path
        raise ReadError("cannot be read: its path contains a NUL byte") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ReadError("is a folder, not a file")
        if not stat.S_ISREG(mode):
            raise ReadError("is not a regular file (a pipe, socket or device); only regular files are read")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(limit + 1 - size, 4 * MiB))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise ReadError(f"is larger than {_size(limit)}, the most bordersim reads from such a file")
        return b"".join(chunks)
    except OSError as exc:
        raise ReadError(_REASONS.get(exc.errno or 0, f"cannot be read ({exc.strerror})")) from None
    finally:
        os.close(fd)


def _size(n: int) -> str:
    return f"{n / MiB:g} MiB" if n >= MiB else f"{n:,} bytes"
