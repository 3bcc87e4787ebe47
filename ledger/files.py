"""Files a person names: read only when regular and bounded, written private and new.

Reading (an import, an evidence file, a trust file): the path must be a
regular file (a FIFO, a device such as ``/dev/zero`` or a folder is refused
at once, never waited on) no larger than the caller's limit.

Writing decrypted data (evidence, timelines, bundles, backups): the file is
created with mode 0600, never through a symbolic link, and never over an
existing file unless the person said ``--force`` (then it is replaced whole,
atomically). Content is first written to a ``.NAME.XXXX.part`` file beside
the target (a ``.part`` folder for a backup), locked while it is written and
removed on every way out; one left by a killed process (whose lock died with
it) is removed by the next write to the same target.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ledger.errors import AlreadyExists, InvalidInput, NotFound

PRIVATE = 0o600
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _refuse(path: Path, exc: OSError) -> Exception:
    if isinstance(exc, FileNotFoundError):
        return NotFound(f"no file {path}", "check the path")
    if exc.errno == errno.ELOOP:
        return InvalidInput(f"{path} is a symbolic link", "give the real file's path")
    return InvalidInput(f"cannot use {path}: {exc.strerror}", "check the path and its permissions")


def open_regular(path: Path, limit: int) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file of at most ``limit`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _CLOEXEC)
    except OSError as exc:
        raise _refuse(path, exc) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a pipe, device or socket)"
            raise InvalidInput(f"{path} is {kind}", "give an ordinary file")
        if info.st_size > limit:
            raise InvalidInput(f"{path} is larger than {_size(limit)}",
                               "split it, or hand it in another way")
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (re-checked while reading)."""
    with open_regular(path, limit) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"{path} grew past {_size(limit)} while it was read")
    return data


def read_small_text(path: Path, what: str, limit: int = 1024 * 1024) -> str:
    """A small UTF-8 text file (a trust file, a saved checkpoint, a config file)."""
    data = read_regular(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not a {what} (not UTF-8 text)", f"give the {what} itself") from None


def read_json(path: Path, what: str, hint: str = "", limit: int = 1024 * 1024) -> Any:
    """A small JSON document (a trust file, a key file, a recovery key) from a regular file,
    read strictly: a repeated key, NaN or nesting past 32 levels is InvalidInput, never
    last-wins or RecursionError. NotFound when there is no such file."""
    from ledger import canonical  # here, not at the top: it loads cryptography, which --help must not

    document = read_small_text(path, what, limit)
    try:
        return canonical.strict_loads(document)
    except ValueError as exc:
        raise InvalidInput(f"{path} is not a valid {what}: {exc}", hint or f"give the {what} itself") from None


def sha256_of(path: Path, limit: int) -> str:
    """The SHA-256 (hex) of a regular file of at most ``limit`` bytes, read in pieces."""
    digest = hashlib.sha256()
    seen = 0
    with open_regular(path, limit) as handle:
        while chunk := handle.read(1024 * 1024):
            seen += len(chunk)
            if seen > limit:
                raise InvalidInput(f"{path} grew past {_size(limit)} while it was read")
            digest.update(chunk)
    return digest.hexdigest()


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"


# -- writing -----------------------------------------------------------------------------


def check_target(target: Path, force: bool) -> None:
    """Refuse early a target that is a folder, or exists and may not be replaced."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise _refuse(target, exc) from None
    else:
        if stat.S_ISDIR(info.st_mode):
            raise InvalidInput(f"{target} is a folder", "give a file name")
        if not force:
            raise AlreadyExists(f"{target} already exists",
                                "choose another file name, or add --force to replace it")
        if not stat.S_ISREG(info.st_mode) and not stat.S_ISLNK(info.st_mode):
            raise InvalidInput(f"{target} is not a regular file", "give a file name")
    if not target.parent.is_dir():
        raise NotFound(f"the folder {target.parent} does not exist", "create it first")


def sweep_stale_parts(target: Path) -> int:
    """Remove ``.part`` files and folders of ``target`` left by killed writers; returns how many.

    A part is in use while its writer holds a lock on it (the file, or the folder itself);
    the lock dies with the process, so a part nobody holds is stale."""
    removed = 0
    for part in target.parent.glob(f".{target.name}.*.part"):
        folder = part.is_dir() and not part.is_symlink()
        try:
            fd = os.open(part, (os.O_RDONLY | os.O_DIRECTORY if folder else os.O_RDWR) | _NOFOLLOW | _CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a live writer holds it
            os.close(fd)
            continue
        try:
            shutil.rmtree(part) if folder else part.unlink(missing_ok=True)
            removed += 1
        finally:
            os.close(fd)
    return removed


class PartFolder:
    """A private (0700) folder beside its target, locked for as long as it is written and
    renamed into place once complete.

    The lock is on the folder itself, taken before the folder gets its ``.part`` name (it is
    made under a ``.new`` name, locked, then renamed), so a ``.part`` folder is either held by
    a live writer or stale, whatever moment a kill comes at, and the next write removes it."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.committed = False
        name = f".{target.name}.{os.urandom(4).hex()}"
        staging = target.parent / f"{name}.new"
        self.path = target.parent / f"{name}.part"
        try:
            staging.mkdir(mode=0o700)
            self._lock = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW | _CLOEXEC)
        except OSError as exc:
            raise _refuse(target.parent, exc) from None
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        os.rename(staging, self.path)

    def commit(self) -> None:
        """Move the finished folder into place (the target must still not exist)."""
        if self.target.exists() or self.target.is_symlink():
            raise AlreadyExists(f"{self.target} already exists", "give a new folder name")
        os.rename(self.path, self.target)
        self.committed = True

    def discard(self) -> None:
        """Remove the folder and everything in it (nothing happens once committed)."""
        if not self.committed:
            shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._lock)


@contextlib.contextmanager
def private_folder(target: Path) -> Iterator[PartFolder]:
    """A :class:`PartFolder` for ``target``, removed on any way out unless committed."""
    part = PartFolder(target)
    try:
        yield part
    finally:
        part.discard()


class Part:
    """A private, locked temporary file beside its target, to be committed once."""

    def __init__(self, target: Path, force: bool) -> None:
        self.target = target
        self.force = force
        self.committed = False
        check_target(target, force)
        sweep_stale_parts(target)
        for _ in range(100):
            self.path = target.parent / f".{target.name}.{os.urandom(4).hex()}.part"
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, PRIVATE)
                break
            except FileExistsError:
                continue
            except OSError as exc:
                raise _refuse(target.parent, exc) from None
        else:  # pragma: no cover - 100 random collisions
            raise InvalidInput(f"cannot create a temporary file beside {target}")
        fcntl.flock(fd, fcntl.LOCK_EX)
        self.handle: BinaryIO = os.fdopen(fd, "w+b")

    def commit(self, sync: bool = True) -> None:
        """Flush to disk (``sync``: and wait until it is there) and move into place (never over a
        file unless forced). The move is atomic either way: a reader sees the old file or the new."""
        self.handle.flush()
        if sync:
            os.fsync(self.handle.fileno())
        if self.force:
            os.replace(self.path, self.target)
        else:
            try:
                self._place_new()
            except FileExistsError:
                raise AlreadyExists(f"{self.target} already exists",
                                    "choose another file name, or add --force to replace it") from None
        self.committed = True

    def _place_new(self) -> None:
        """Move the part to a target that must not exist, without a moment of overwriting."""
        try:
            os.link(self.path, self.target, follow_symlinks=False)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            # No hard links here (e.g. a FAT memory stick): reserve the name, then replace our own placeholder.
            os.close(os.open(self.target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, PRIVATE))
            os.replace(self.path, self.target)
            return
        self.path.unlink()

    def discard(self) -> None:
        """Remove the temporary file (nothing happens once committed)."""
        if not self.committed:
            self.path.unlink(missing_ok=True)
        self.handle.close()


@contextlib.contextmanager
def private_file(target: Path, force: bool = False) -> Iterator[Part]:
    """A :class:`Part` for ``target``: write to ``part.handle``, call ``part.commit()``;
    on any exception (or if not committed) the temporary file is removed."""
    part = Part(target, force)
    try:
        yield part
    finally:
        part.discard()


def write_private(target: Path, data: bytes, force: bool = False, sync: bool = True) -> None:
    """Write ``data`` to a new file ``target`` (mode 0600; replaced only with ``force``).

    ``sync=False`` skips waiting for the disk: only for a file whose loss or an older copy
    after a power cut is harmless (the host's newest checkpoint, see ``Ledger``)."""
    with private_file(target, force) as part:
        part.handle.write(data)
        part.commit(sync)
