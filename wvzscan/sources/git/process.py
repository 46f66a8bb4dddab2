"""The one git runner: every git process wvzscan starts goes through this module.

- ``run``: capture stdout; the exit code is always checked (``check=False`` only where a failure
  is itself the answer, e.g. ``rev-parse --verify``: use ``probe`` for that).
- ``Stream``: a ``Popen`` read as a stream; its exit code (and, for enumerations, its error
  output) is checked when it ends.
- ``Batch``: one ``git cat-file --batch`` pipe; ``AnswerReader`` is the one parser of its output.

Every call runs under one environment and config policy (``git_env`` and ``POLICY``): what can
change the plumbing output wvzscan parses, or which objects git shows as reachable, is pinned or
switched off (grafts, replace objects, output encoding, quoting, pagers, colour, hooks, lazy
fetches, optional locks, prompts), and inherited ``GIT_*`` variables that redirect git to
another repository, index or object store are dropped, unless a command deliberately keeps one
(``Repo.keep_env``: the index of a ``git commit -a`` that runs the pre-commit hook).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

from wvzscan.errors import WvzscanError

# A path that cannot exist (a file under /dev/null): "no such file", silently.
NOWHERE = os.path.join(os.devnull, "wvzscan-none")

# git's command-line config wins over every config file (system, global, the repository's own).
POLICY: tuple[str, ...] = (
    "core.quotePath=false",  # paths as bytes, never C-quoted
    "i18n.logOutputEncoding=UTF-8",  # a repository's UTF-16 log encoding would hide every field
    "i18n.commitEncoding=UTF-8",
    "color.ui=never",
    "core.pager=cat",
    "core.hooksPath=" + NOWHERE,  # no hook runs (clone, fetch...)
    "core.fsmonitor=false",  # a configured fsmonitor is a program git would run
    "core.useReplaceRefs=false",  # (git >= 2.41; GIT_NO_REPLACE_OBJECTS below for older ones)
    # git believes a commit-graph file's parents and root trees without reading the commits: a
    # planted one hides objects from the connectivity walk and changes from the log (tested). Not
    # read, though it would make git/git's walk 1.0-1.2 s of CPU cheaper: `commit-graph verify`
    # costs 1.5 s (see docs/benchmarks.md).
    "core.commitGraph=false",
    "log.showSignature=false",  # gpg output inside git log's stream
    "log.mailmap=false",
    "diff.relative=false",
    "diff.noprefix=false",
    "diff.mnemonicPrefix=false",
    "gc.auto=0",
    "maintenance.auto=false",
    "advice.graftFileDeprecated=false",
)

_FIXED_ENV = {
    "GIT_TERMINAL_PROMPT": "0",  # never stop to ask for a password
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_NO_LAZY_FETCH": "1",  # a partial clone's promisor remote would make a scan reach the network
    # Replace refs and grafts make git show other objects or parents in place of the real ones;
    # the real ones are what the repository holds and what a clone or push sends.
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_GRAFT_FILE": NOWHERE,  # .git/info/grafts and an inherited GIT_GRAFT_FILE both ignored
    "GIT_CONFIG_COUNT": "0",  # an inherited GIT_CONFIG_KEY_n/VALUE_n set is not applied
    "LC_ALL": "C",  # git's messages in English: errors are matched on their words
    "LANGUAGE": "C",
}

# Inherited GIT_* variables kept: the user's own config files, transport and credentials (a
# clone of a URL), where git is installed. Every other GIT_* is dropped (GIT_DIR, GIT_WORK_TREE,
# GIT_INDEX_FILE, GIT_OBJECT_DIRECTORY, GIT_ALTERNATE_OBJECT_DIRECTORIES, GIT_COMMON_DIR,
# GIT_NAMESPACE, GIT_CONFIG_PARAMETERS, GIT_CONFIG, GIT_TRACE*, GIT_*_PATHSPECS, ...).
_KEEP = frozenset(
    {
        "GIT_EXEC_PATH",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_SYSTEM",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_CEILING_DIRECTORIES",
        "GIT_DISCOVERY_ACROSS_FILESYSTEM",
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_SSH_VARIANT",
        "GIT_ASKPASS",
        "GIT_SSL_CAINFO",
        "GIT_SSL_CAPATH",
        "GIT_SSL_CERT",
        "GIT_SSL_KEY",
        "GIT_SSL_NO_VERIFY",
        "GIT_HTTP_PROXY_AUTHMETHOD",
        "GIT_HTTP_USER_AGENT",
        "GIT_HTTP_LOW_SPEED_LIMIT",
        "GIT_HTTP_LOW_SPEED_TIME",
        "GIT_ALLOW_PROTOCOL",
        "GIT_PROTOCOL_FROM_USER",
    }
)


# What a git process writes to wvzscan goes through a pipe: 64 KiB by default on Linux, which costs a
# write, a read and two context switches per 64 KiB (git/git's 8 GB: about a million of each).
PIPE_SIZE = 1 << 20
# Readers and the connectivity walk read objects in pack or history order, where consecutive ones
# are deltas of one another: a delta-base cache bigger than git's 96 MiB saves re-inflating their
# bases (git/git: readers 18.1 -> 14.1 s of CPU, the walk 6.1 -> 5.9 s; each process grows by up to
# about 170 MB). 512 MiB saved nothing more, 1 GiB cost more.
DELTA_BASE_CACHE = "core.deltaBaseCacheLimit=256m"
PATIENCE = 0.0005  # seconds a patient reader waits after finding a wide pipe nearly empty (AnswerReader.of_fd)


def widen_pipe(fd: int, size: int = PIPE_SIZE) -> int:
    """Ask the kernel for a ``size`` pipe (fewer, larger reads and writes); return the size it has
    (0: unknown). Where that is not allowed (not Linux, over /proc/sys/fs/pipe-max-size, the user's
    pipe quota used up) the pipe silently keeps its size: only the speed differs."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return 0
    op = getattr(fcntl, "F_SETPIPE_SZ", None)
    if op is None:
        return 0
    try:
        return int(fcntl.fcntl(fd, op, size))
    except OSError:
        with contextlib.suppress(OSError):
            return int(fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ))
        return 0


class GitError(WvzscanError):
    """git failed in a way that stops the scan (not a repository, bad revision, refused...): exit 2."""


class NotARepository(GitError):
    pass


class UnsafeRepository(GitError):
    """git's safe.directory check refused the repository (owned by another user)."""


def git_env(keep: Mapping[str, str] | None = None, inherit: Iterable[str] = ()) -> dict[str, str]:
    """The environment of every git process: the policy above over the caller's environment.

    ``keep``: GIT_* values a command sets on purpose; ``inherit``: names of inherited GIT_*
    variables it deliberately honours (repository discovery from ``.`` in a hook)."""
    allowed = _KEEP | frozenset(inherit)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in allowed}
    env.update(_FIXED_ENV)
    if keep:
        env.update(keep)
    return env


def command(git_dir: str | None, *args: str, pre: Sequence[str] = ()) -> list[str]:
    """``git [--git-dir D] [pre...] -c <policy>... args``."""
    cmd = ["git"]
    if git_dir is not None:
        cmd += ["--git-dir", git_dir]
    cmd += pre
    for setting in POLICY:
        cmd += ["-c", setting]
    return [*cmd, *args]


@dataclass(frozen=True)
class Completed:
    code: int
    stdout: bytes
    stderr: bytes


def run_full(
    git_dir: str | None,
    args: Sequence[str],
    *,
    cwd: str | None = None,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    pre: Sequence[str] = (),
    timeout: float | None = None,
) -> Completed:
    """Run git to the end: exit code, stdout and stderr, for callers that judge the code themselves.
    ``timeout`` (seconds, for network commands: a clone): GitError when git takes longer."""
    try:
        p = subprocess.run(
            command(git_dir, *args, pre=pre),
            cwd=cwd,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            env=dict(env) if env is not None else git_env(),
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0] if args else ''} took longer than {timeout:.0f} s") from None
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH)") from None
    except NotADirectoryError:
        raise NotARepository(f"not a directory: {cwd}") from None
    return Completed(p.returncode, p.stdout, p.stderr)


def run(
    git_dir: str | None,
    args: Sequence[str],
    cwd: str | None = None,
    input: bytes | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    pre: Sequence[str] = (),
) -> bytes:
    """Run git and return its stdout; a failure becomes a GitError with git's own words.

    ``check=False`` is for commands whose failure is an answer with an empty output (a revision
    that does not resolve, a config key that is not set)."""
    p = run_full(git_dir, args, cwd=cwd, input=input, env=env, pre=pre)
    if check and p.code != 0:
        raise GitError(explain(p.stderr, f"git {args[0] if args else ''}".strip()))
    return p.stdout


def explain(stderr: bytes, what: str) -> str:
    """git's first fatal/error line, with a fix when we know one."""
    text = stderr.decode("utf-8", "replace")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith(("fatal:", "error:")):
            return ln.split(":", 1)[1].strip()
    return lines[0] if lines else f"{what} failed"


class Stream:
    """A git process read as a stream (``with Stream(...) as s: for b in s.chunks(): ...``).

    When the block ends normally the exit code is checked, and with ``strict_stderr`` any error
    output too (an enumeration that printed an error and exited 0 is not complete). When the
    block ends early (an exception, a generator closed by its consumer) git is stopped.
    """

    def __init__(
        self,
        cmd: list[str],
        env: Mapping[str, str],
        *,
        stdin: bytes | None = None,
        what: str = "git",
        strict_stderr: bool = False,
    ) -> None:
        import tempfile  # not at load time: the `staged` hook never streams

        self.what = what
        self.strict_stderr = strict_stderr
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 (closed when the process ends)
        try:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self._err,
                env=dict(env),
            )
        except FileNotFoundError:
            self._err.close()
            raise GitError("git is not installed (or not on PATH)") from None
        if stdin is not None and self.proc.stdin is not None:
            import threading

            def feed(pipe: IO[bytes], data: bytes) -> None:
                import contextlib

                with contextlib.suppress(OSError):
                    pipe.write(data)
                with contextlib.suppress(OSError):
                    pipe.close()

            self._feeder: threading.Thread | None = threading.Thread(
                target=feed, args=(self.proc.stdin, stdin), daemon=True
            )
            self._feeder.start()
        else:
            self._feeder = None
        assert self.proc.stdout is not None
        self.stdout: IO[bytes] = self.proc.stdout
        widen_pipe(self.stdout.fileno())
        self.stderr_text = ""

    def chunks(self, size: int = 1 << 20) -> Iterable[bytes]:
        read = self.stdout.read
        while True:
            b = read(size)
            if not b:
                return
            yield b

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, typ: object, exc: object, tb: object) -> None:
        early = typ is not None
        try:
            self.stdout.close()
            if early and self.proc.poll() is None:
                self.proc.kill()
            code = self.proc.wait()
            if self._feeder is not None:
                self._feeder.join()
            self._err.seek(0)
            err = self._err.read()
        finally:
            self._err.close()
        self.stderr_text = err.decode("utf-8", "replace")
        if early:
            return
        if code != 0:
            raise GitError(f"{self.what} failed: {explain(err, self.what)}")
        if self.strict_stderr and err.strip():
            raise GitError(f"{self.what} reported errors: {explain(err, self.what)}")


# --- cat-file --batch --------------------------------------------------------------------------


class Truncated(Exception):
    """The ``cat-file --batch`` process ended in the middle of an answer."""


@dataclass(frozen=True)
class Answer:
    """One answer of ``cat-file --batch``: an object, or a problem (``missing``, ``ambiguous``)."""

    oid: str
    type: str
    data: bytes | None  # None for a problem

    @property
    def problem(self) -> str | None:
        return self.type if self.data is None else None


TRUSTED_SIZE = 32 << 20  # bytes an answer's header may make the reader allocate before they arrive
MAX_HEADER = 4096  # an answer's header line is an object id, a type and a size (or "missing")
# An answer parsed in place: (object id, type, content offset in the reader's buffer or -1, size).
Parsed = tuple[bytes, str, int, int]
_TYPES = {b"blob": "blob", b"commit": "commit", b"tag": "tag", b"tree": "tree"}
# The common answer's header: a SHA-1 or SHA-256 id, a type, a size (no more than 20 digits).
_HEADER = re.compile(rb"([0-9a-f]{40}(?:[0-9a-f]{24})?) (blob|commit|tag|tree) ([0-9]{1,20})\n")


class AnswerReader:
    """The one parser of ``git cat-file --batch`` output.

    It takes large pieces off the pipe (``read_into`` fills a memoryview, e.g. ``os.readv`` on a
    descriptor: up to a whole 1 MiB pipe per system call) into one buffer and parses the answers in
    place: an object's content is a memoryview into that buffer, valid until the next call (copy it
    with ``bytes()`` to keep it). The buffer grows for an object bigger than itself and shrinks back
    afterwards.
    """

    def __init__(self, read_into: Callable[[memoryview], int], size: int = 4 * PIPE_SIZE) -> None:
        self._read_into = read_into
        self._base = size
        self._min_read = min(PIPE_SIZE, size)  # room kept for each read
        self._buf = bytearray(size)
        self._view = memoryview(self._buf)
        self._start = self._end = 0  # the unparsed bytes: _buf[_start:_end]

    @classmethod
    def of_fd(cls, fd: int, pipe_size: int = 0) -> AnswerReader:
        """Answers read from descriptor ``fd``; ``pipe_size``: its pipe's size when known.

        Reading a wide pipe (``PIPE_SIZE`` or more), the reader is patient: after a read that found
        the pipe nearly empty (Python parses and scans faster than git inflates), it pauses half a
        millisecond before the next, so git fills the pipe meanwhile instead of waking the reader at
        each of its 16 KiB writes. On git/git reads grew from about 20 KB to about 400 KB, and the
        reading process's CPU fell from 7.1 to 5.9 s, git's by 0.3 s (benchmarks/reader_bench.py).
        Git writes well under a pipe's worth in a pause, so it never waits for the reader; a narrow
        pipe would fill, so it is read as before."""
        if pipe_size < PIPE_SIZE:
            return cls(lambda view: os.readv(fd, [view]))
        import time

        low, sleep, readv = pipe_size // 8, time.sleep, os.readv

        def read(view: memoryview) -> int:
            n = readv(fd, [view])
            if 0 < n < low:
                sleep(PATIENCE)
            return n

        return cls(read)

    def _fill(self, need: int) -> bool:
        """At least ``need`` unparsed bytes in the buffer (False: the stream ended first)."""
        while self._end - self._start < need:
            if len(self._buf) - self._end < self._min_read or (self._start and len(self._buf) - self._start < need):
                self._compact(need)
            n = self._read_into(self._view[self._end :])
            if not n:
                return False
            self._end += n
        return True

    def _compact(self, need: int) -> None:
        have = self._end - self._start
        # A header's size is git's word for what comes (a planted loose object can claim 100 GB and
        # hold 5 bytes): it is allocated at once only up to TRUSTED_SIZE, and past that the buffer
        # doubles as the bytes arrive (an object over 32 MiB briefly costs up to twice its size).
        want = max(self._base, min(need + self._min_read, max(2 * len(self._buf), TRUSTED_SIZE)))
        if want > len(self._buf) or (len(self._buf) > self._base and want == self._base):
            buf = bytearray(want)  # a new buffer: views handed out before stay valid until dropped
            buf[:have] = self._view[self._start : self._end]
            self._buf, self._view = buf, memoryview(buf)
        else:
            self._view[:have] = self._view[self._start : self._end]  # (memmove)
        self._start, self._end = 0, have

    def next(self) -> tuple[bytes, str, memoryview | None] | None:
        """The next answer: (object id, type, content), with content None for a problem
        (type "missing" or "ambiguous"); None at the end.

        Raises Truncated when git died inside an answer, GitError on output that is no answer."""
        a = self._one(True)
        if a is None:
            return None
        oid, typ, body, size = a
        return oid, typ, None if body < 0 else self._view[body : body + size]

    def take(self) -> tuple[memoryview, list[Parsed]] | None:
        """Every whole answer buffered now (one at least: read as needed), as offsets into one
        view of the buffer, valid until the next call; None at the end. One look (a Hyperscan
        scan, say) can then cover many small answers at once."""
        first = self._one(True)
        if first is None:
            return None
        out = [first]
        # The common answer (an object, whole in the buffer) parsed inline: this loop runs once
        # per object of a history (850,000 on git/git), so every call and copy it saves counts.
        # Anything else (a problem, a partial answer, garbage) goes to _one as the first did.
        buf, end, types, append, match = self._buf, self._end, _TYPES, out.append, _HEADER.match
        start = self._start
        while True:
            m = match(buf, start, end)
            if m is not None:
                body, size = m.end(), int(m[3])
                stop = body + size
                if stop < end and buf[stop] == 0x0A:
                    append((m[1], types[m[2]], body, size))
                    start = stop + 1
                    continue
            self._start = start
            try:
                a = self._one(False)
            except (Truncated, GitError):
                break  # nothing of it was consumed: the next call meets it again and raises
            if a is None:
                break
            append(a)
            start = self._start
        return self._view, out

    def _one(self, fill: bool) -> Parsed | None:
        """The next answer as (object id, type, content offset in the buffer, size), the offset
        -1 for a problem. None: the stream ended (``fill``), or no whole answer is buffered (not
        ``fill``: nothing is read, nothing consumed)."""
        nl = self._buf.find(b"\n", self._start, self._end)
        while nl < 0:
            if not fill:
                return None
            have = self._end - self._start
            if have > MAX_HEADER:
                head = bytes(self._buf[self._start : self._start + 80])
                raise GitError(f"unexpected output from git cat-file: {head!r}")
            if not self._fill(have + 1):
                if self._end == self._start:
                    return None
                raise Truncated
            nl = self._buf.find(b"\n", self._start, self._end)
        if nl - self._start > MAX_HEADER:  # whether or not the read that brought it was big enough
            raise GitError(f"unexpected output from git cat-file: {bytes(self._buf[self._start : self._start + 80])!r}")
        header = self._buf[self._start : nl]
        parts = header.split()
        if len(parts) == 3:
            oid, typ_b, size_b = parts
            if not size_b.isdigit():  # what int() also takes ("-1", "+5", "1_0") is no size
                raise GitError(f"unexpected output from git cat-file: {bytes(header[:80])!r}")
            size = int(size_b)
            at = nl + 1 - self._start  # the content's offset from the answer's start
            if self._end - self._start < at + size + 1:
                if not fill:
                    return None
                if not self._fill(at + size + 1):
                    raise Truncated
            body = self._start + at
            if self._buf[body + size] != 0x0A:
                raise Truncated
            self._start = body + size + 1
            typ = _TYPES.get(bytes(typ_b)) or typ_b.decode("ascii", "replace")
            return bytes(oid), typ, body, size
        if len(parts) == 2 and bytes(parts[1]) in (b"missing", b"ambiguous"):
            self._start = nl + 1
            return bytes(parts[0]), parts[1].decode("ascii"), -1, 0
        raise GitError(f"unexpected output from git cat-file: {bytes(header[:80])!r}")


def parse_batch(out: bytes) -> tuple[list[Answer], bool]:
    """Every answer in a captured ``cat-file --batch`` output; True when it ends truncated."""
    import io

    reader = AnswerReader(io.BytesIO(out).readinto, size=len(out) + 1)
    answers: list[Answer] = []
    while True:
        try:
            a = reader.next()
        except Truncated:
            return answers, True
        if a is None:
            return answers, False
        oid, typ, data = a
        answers.append(Answer(oid.decode("ascii", "replace"), typ, None if data is None else bytes(data)))


class Batch:
    """One ``git cat-file --batch`` pipe (stdin: object names; stdout: answers); stderr is kept
    in a file and read when it ends (``close``)."""

    def __init__(self, cmd: list[str], env: Mapping[str, str]) -> None:
        import tempfile

        self._err = tempfile.TemporaryFile()  # noqa: SIM115 (closed when the process ends)
        try:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._err,
                env=dict(env),
                bufsize=1 << 16,
            )
        except FileNotFoundError:
            self._err.close()
            raise GitError("git is not installed (or not on PATH)") from None
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin: IO[bytes] = self.proc.stdin
        self.stdout: IO[bytes] = self.proc.stdout
        self.pipe_size = widen_pipe(self.stdout.fileno())

    def kill(self) -> None:
        self.proc.kill()

    def close(self) -> tuple[int, str]:
        """Wait for the end: (exit code, git's error explained, "" when it said nothing)."""
        code = self.proc.wait()
        self._err.seek(0)
        err = self._err.read()
        self._err.close()
        return code, explain(err, "git cat-file") if err.strip() else ""


def _settings(config: Sequence[str]) -> list[str]:
    return [arg for c in config for arg in ("-c", c)]


# --- the repository ------------------------------------------------------------------------------


@dataclass
class Repo:
    git_dir: str  # absolute
    work_tree: str | None  # None for a bare repository
    shallow: bool
    object_format: str
    # GIT_* values this repository's commands deliberately keep (the hook's GIT_INDEX_FILE).
    keep_env: dict[str, str] = field(default_factory=dict)
    # git's global options for every call: ``--shallow-file`` when the shallow file is not believed.
    pre: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)  # what opening it found that a scan must say
    errors: list[str] = field(default_factory=list)  # ... and that makes a scan incomplete
    boundary: frozenset[str] = frozenset()  # the shallow commits believed (their parents are not here)

    def env(self) -> dict[str, str]:
        return git_env(self.keep_env)

    def run(self, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
        return run(self.git_dir, args, input=input, check=check, env=self.env(), pre=self.pre)

    def run_full(self, *args: str, input: bytes | None = None) -> Completed:
        return run_full(self.git_dir, args, input=input, env=self.env(), pre=self.pre)

    def ok(self, *args: str) -> bool:
        """Whether git answers yes (exit 0): ``cat-file -e``, ``merge-base --is-ancestor``."""
        return self.run_full(*args).code == 0

    def cmd(self, *args: str) -> list[str]:
        return command(self.git_dir, *args, pre=self.pre)

    def stream(
        self, *args: str, stdin: bytes | None = None, strict_stderr: bool = False, config: Sequence[str] = ()
    ) -> Stream:
        """``git ARGS`` as a stream; ``config``: settings for this one run (``name=value``)."""
        what = f"git {args[0]}" if args and not args[0].startswith("-") else "git"
        cmd = self.cmd(*_settings(config), *args)
        return Stream(cmd, self.env(), stdin=stdin, what=what, strict_stderr=strict_stderr)

    def batch(self, *config: str) -> Batch:
        return Batch(self.cmd(*_settings(config), "cat-file", "--batch"), self.env())

    def cat(self, oids: Sequence[str]) -> tuple[list[Answer], str]:
        """Read a few objects with one ``cat-file --batch`` run: the answers in order, and git's
        error when it died before answering them all ("" otherwise)."""
        p = self.run_full("cat-file", "--batch", input="".join(o + "\n" for o in oids).encode())
        answers, truncated = parse_batch(p.stdout)
        died = truncated or len(answers) < len(oids) or p.code != 0
        return answers, (explain(p.stderr, "git cat-file") if died else "")

    def resolve(self, rev: str, kind: str | None = "commit") -> str | None:
        """The object id of ``rev`` peeled to ``kind`` (None: as it is), or None when it does not resolve.

        ``HEAD:path`` cannot be peeled (git would read ``path^{blob}`` as the path): pass kind=None."""
        out = self.run(
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            rev if kind is None else f"{rev}^{{{kind}}}",
            check=False,
        )
        oid = out.decode("ascii", "replace").strip()
        return oid or None

    def head(self) -> str | None:
        """HEAD's commit, or None in a repository without commits (unborn HEAD)."""
        return self.resolve("HEAD")

    @property
    def null_oid(self) -> str:
        return "0" * self.oid_len

    @property
    def oid_len(self) -> int:
        return 64 if self.object_format == "sha256" else 40


def _work_tree_of(git_dir: str) -> str | None:
    """The work tree of a non-bare repository whose .git folder we were started in (git answers
    --show-toplevel only from inside the work tree): the folder that holds it, if it agrees."""
    parent = os.path.dirname(git_dir.rstrip("/"))
    p = run_full(None, ["rev-parse", "--absolute-git-dir", "--show-toplevel"], cwd=parent)
    lines = p.stdout.decode("utf-8", "surrogateescape").splitlines()
    if p.code == 0 and len(lines) == 2 and os.path.samefile(lines[0], git_dir):
        return lines[1]
    return None


# Inherited variables honoured when the repository is ``.``: git sets them for hooks (and
# GIT_INDEX_FILE is the index a `git commit -a` or `git commit <paths>` is about to record).
_HOOK_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")


def discover(path: str) -> Repo:
    """Discover the repository at ``path`` (a work tree, anywhere inside one, or a bare repository).

    A GIT_DIR or GIT_WORK_TREE in the environment (set by git for hooks, or left by a script) would
    make git answer for that repository instead; it is honoured only for ``.``, where the two agree.
    """
    if not os.path.isdir(path):
        raise NotARepository(f"not a directory: {path}")
    # One git process: start-up time matters for hooks. --show-toplevel fails last in a bare
    # repository, after the other answers are printed.
    args = ["rev-parse", "--absolute-git-dir", "--is-bare-repository", "--is-shallow-repository"]
    args += ["--show-object-format", "--is-inside-git-dir", "--show-toplevel"]
    here = os.path.normpath(path) == "."
    inherit = _HOOK_VARS if here else ()
    p = run_full(None, args, cwd=path, env=git_env(inherit=inherit))
    lines = p.stdout.decode("utf-8", "surrogateescape").splitlines()
    inside_git_dir = len(lines) >= 5 and lines[4] == "true"
    if len(lines) < 5 or (p.code != 0 and lines[1] != "true" and not inside_git_dir):
        err = p.stderr.decode("utf-8", "replace")
        if "dubious ownership" in err or "safe.directory" in err:
            real = os.path.realpath(path)
            raise UnsafeRepository(
                f"git refuses to read {path}: it is owned by another user (git's safe.directory check). "
                f"If you trust it, run: git config --global --add safe.directory {real}"
            )
        if "not a git repository" in err:
            raise NotARepository(f"not a git repository: {path}")
        raise GitError(f"cannot open {path} as a git repository: {explain(p.stderr, 'git rev-parse')}")
    git_dir, bare, shallow, fmt = lines[:4]
    work_tree = lines[5] if bare != "true" and len(lines) > 5 else None
    if bare != "true" and inside_git_dir:
        work_tree = _work_tree_of(git_dir)
    keep = {}
    if here and "GIT_INDEX_FILE" in os.environ:
        index = os.environ["GIT_INDEX_FILE"]
        keep["GIT_INDEX_FILE"] = os.path.abspath(index)
    repo = Repo(git_dir=git_dir, work_tree=work_tree, shallow=shallow == "true", object_format=fmt or "sha1")
    repo.keep_env = keep
    return repo
