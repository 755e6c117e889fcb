"""A real single-node Elasticsearch for development, tests and the demo.

Why this exists: every test and the offline demo need a real node, and this
machine has no Docker. We take the ``integ-test-zip`` distribution from Maven
Central (``mvn dependency:copy``; Maven's local repository is the download
cache, so a second start is offline), run it on a Temurin JDK >= 21 found under
/usr/lib/jvm, bound to 127.0.0.1 on a free port, with security on and a
generated ``elastic`` password written to a 0600 file that ``load_settings``
reads. Elasticsearch refuses to run as root, so when we are root the node runs
as the unprivileged ``nobody`` user.

What that user can see is kept to what the node needs: its processes get a
minimal environment (never the caller's, which holds the project's secrets),
the ``elastic`` password is in the keystore (as ``bootstrap.password``) only
while the node starts, and its data and logs are private to it (0700/0600).

This module must not know anything about documents or indices.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import yaml

from mediamon.core.errors import OperationFailed
from mediamon.core.settings import LOCAL_CREDENTIALS_FILE, Settings

log = logging.getLogger(__name__)

# The version (Settings.es_version, default 9.5.4) is the newest 9.x integ-test zip on Maven Central
# (9.5.5/9.5.6 and 9.6 are not published there); it starts on Temurin 25. See README "Local Elasticsearch".
ES_ARTIFACT = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"
SERVICE_USER = "nobody"
START_TIMEOUT_S = 180
# What the node's processes get of the caller's environment: the system basics, never a MEDIAMON_* secret.
PASSED_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "TZ")
PRIVATE_UMASK = 0o077  # the node's files and directories: readable by the service user only


class LocalESError(OperationFailed):
    """A local node problem, with a message that says what to do."""


@dataclass(frozen=True)
class NodeInfo:
    pid: int
    port: int
    url: str
    version: str


def es_dir(settings: Settings) -> Path:
    assert settings.local_es_dir is not None  # filled by the Settings validator
    return settings.local_es_dir


def _home(settings: Settings) -> Path:
    return es_dir(settings) / f"elasticsearch-{settings.es_version}"


def _state_path(settings: Settings) -> Path:
    return es_dir(settings) / "node.json"


# --- prerequisites ---------------------------------------------------------


def find_java_home(settings: Settings) -> Path:
    """A Temurin JDK >= 21 under MEDIAMON_JVM_ROOT (or MEDIAMON_JAVA_HOME itself), else a clear error."""
    override, jvm_root = settings.java_home, settings.jvm_root
    if override:
        if not (Path(override) / "bin" / "java").exists():
            raise LocalESError(f"MEDIAMON_JAVA_HOME={override} has no bin/java")
        return Path(override)
    found: list[str] = []
    candidates: list[tuple[int, Path]] = []
    for home in sorted(jvm_root.glob("*")) if jvm_root.is_dir() else []:
        release = home / "release"
        if home.is_symlink() or not release.is_file():
            continue
        info = _read_release(release)
        major = _java_major(info.get("JAVA_VERSION", "0"))
        vendor = info.get("IMPLEMENTOR", "unknown")
        found.append(f"{home.name} (Java {major}, {vendor})")
        if major >= 21 and "Adoptium" in vendor and (home / "bin" / "java").exists():
            candidates.append((major, home))
    if not candidates:
        listing = ", ".join(found) or "nothing"
        raise LocalESError(
            f"Elasticsearch {settings.es_version} needs a Temurin JDK >= 21 under {jvm_root}; found {listing}. "
            "Install one (e.g. the temurin-21-jdk package) or set MEDIAMON_JAVA_HOME."
        )
    return max(candidates)[1]


def _read_release(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip().strip('"')
    return out


def _java_major(version: str) -> int:
    head = version.split(".")[0]
    if head == "1":  # 1.8 style
        head = version.split(".")[1]
    return int(head) if head.isdigit() else 0


def _fetch_distribution(settings: Settings) -> Path:
    """Download (or take from Maven's local repository) and unpack the integ-test zip."""
    home = _home(settings)
    if (home / "bin" / "elasticsearch").exists():
        return home
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalESError("Maven (mvn) is needed to fetch Elasticsearch from Maven Central; install maven")
    target = es_dir(settings) / "download"
    target.mkdir(parents=True, exist_ok=True)
    artifact = ES_ARTIFACT.format(version=settings.es_version)
    cmd = [mvn, "-q", "-B", "dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={target}"]
    log.info("fetching Elasticsearch %s with Maven (cached in ~/.m2 after the first time)", settings.es_version)
    offline = subprocess.run([*cmd[:3], "-o", *cmd[3:]], capture_output=True, text=True)
    if offline.returncode != 0:
        online = subprocess.run(cmd, capture_output=True, text=True)
        if online.returncode != 0:
            raise LocalESError(f"mvn could not fetch {artifact}:\n{online.stdout[-2000:]}{online.stderr[-2000:]}")
    archive = target / f"elasticsearch-{settings.es_version}.zip"
    staging = es_dir(settings) / f".unpack-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(staging)
    for script in (staging / f"elasticsearch-{settings.es_version}" / "bin").iterdir():
        script.chmod(0o755)
    (staging / f"elasticsearch-{settings.es_version}").rename(home)  # atomic: a half-unpacked home never exists
    staging.rmdir()
    archive.unlink()  # Maven's repository keeps the cached copy
    return home


# --- process control ---------------------------------------------------------


def _service_ids() -> tuple[int, int] | None:
    """(uid, gid) to run the node as when we are root; Elasticsearch refuses root."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam(SERVICE_USER)
    return entry.pw_uid, entry.pw_gid


def _check_traversable(path: Path, uid: int) -> None:
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if parent.stat().st_uid != uid and not mode & 0o001:
            raise LocalESError(
                f"The local node runs as '{SERVICE_USER}' (Elasticsearch refuses root) but {parent} "
                f"is not searchable by other users; set MEDIAMON_DATA_DIR to a path under a world-searchable "
                f"directory (e.g. /var/tmp/mediamon) or run as a normal user."
            )


def _free_port(preferred: int | None = None) -> int:
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise LocalESError("no free TCP port on 127.0.0.1")


def read_node(settings: Settings) -> NodeInfo | None:
    path = _state_path(settings)
    if not path.is_file():
        return None
    return NodeInfo(**json.loads(path.read_text()))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie of ours counts as gone
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _credentials(settings: Settings) -> dict[str, str]:
    """The generated passwords; created once, kept 0600, never printed."""
    path = settings.local_credentials_path
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key] = value
    for key in ("MEDIAMON_ES_PASSWORD", "MEDIAMON_ES_WRITER_PASSWORD", "MEDIAMON_ES_ANALYST_PASSWORD"):
        values.setdefault(key, secrets.token_urlsafe(24))
    values["MEDIAMON_ES_USERNAME"] = "elastic"
    return values


def _write_credentials(settings: Settings, values: dict[str, str]) -> None:
    path = settings.local_credentials_path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("# written by `mediamon es start` for the local node; keep private\n")
        for key in sorted(values):
            fh.write(f"{key}={values[key]}\n")
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def _node_environment(java_home: Path, heap: str) -> dict[str, str]:
    """The environment of every process of the node: a few system variables and its own settings."""
    env = {key: os.environ[key] for key in PASSED_ENVIRONMENT if key in os.environ}
    env.setdefault("PATH", os.defpath)
    return {**env, "ES_JAVA_HOME": str(java_home), "ES_JAVA_OPTS": f"-Xms{heap} -Xmx{heap}"}


def _run_as() -> dict[str, Any]:
    """subprocess keyword arguments: the service user when we are root, and a private umask."""
    ids = _service_ids()
    return {"umask": PRIVATE_UMASK, **({"user": ids[0], "group": ids[1], "extra_groups": []} if ids else {})}


def _keystore(home: Path, env: dict[str, str], *args: str, secret: str | None = None) -> None:
    subprocess.run([str(home / "bin" / "elasticsearch-keystore"), *args], input=secret, text=True, env=env,
                   check=True, capture_output=True, **_run_as())


def _make_private(path: Path) -> None:
    """Directories 0700, files 0600: what the node wrote before it ran with a private umask."""
    path.chmod(0o700)
    for root, dirs, files in os.walk(path):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o700)
        for name in files:
            os.chmod(os.path.join(root, name), 0o600, follow_symlinks=False)


def _configure(settings: Settings, home: Path, port: int, transport_port: int, heap: str,
               creds: dict[str, str]) -> dict[str, str]:
    node_dir = es_dir(settings)
    data, logs = node_dir / "data", node_dir / "logs"
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    logs.mkdir(mode=0o700, parents=True, exist_ok=True)
    (home / "config" / "elasticsearch.yml").write_text(
        "# written by mediamon es start; local dev/test node\n"
        "cluster.name: mediamon-local\n"
        "node.name: mediamon-local\n"
        "network.host: 127.0.0.1\n"
        f"http.port: {port}\n"
        f"transport.port: {transport_port}\n"
        "discovery.type: single-node\n"
        "xpack.security.enabled: true\n"
        "xpack.security.authc.password_hashing.algorithm: bcrypt\n"
        # file realm changes (roles/users written by `mediamon setup`) are picked up fast
        "resource.reload.interval.high: 1s\n"
        f"path.data: {data}\n"
        f"path.logs: {logs}\n"
        # a dev node on a shared disk must not go read-only because the disk is 90% full
        "cluster.routing.allocation.disk.threshold_enabled: false\n"
        "action.destructive_requires_name: true\n"
    )
    ids = _service_ids()
    env = _node_environment(find_java_home(settings), heap)
    if ids:
        _check_traversable(node_dir, ids[0])
        for path in (home, data, logs):
            _chown_tree(path, *ids)
    for path in (data, logs):
        _make_private(path)
    if not (home / "config" / "elasticsearch.keystore").exists():
        _keystore(home, env, "create")
    # The build has no security index: the reserved realm takes elastic's password from here, once, at start.
    # start() removes it as soon as the node is up, so the service user cannot read it back.
    _keystore(home, env, "add", "-x", "-f", "bootstrap.password", secret=creds["MEDIAMON_ES_PASSWORD"])
    return env


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, gid)


def _quiet(_step: str) -> None:
    """start()'s default ``on_step``: no status lines (tests, library callers)."""


def start(settings: Settings, heap: str | None = None, on_step: Callable[[str], None] = _quiet) -> NodeInfo:
    """Start the node (or find it running) and wait until the cluster is at least yellow.

    ``on_step`` gets a status line as each step begins (a first start takes minutes, a
    restart tens of seconds): the CLI prints them so a start is never a silence.
    """
    heap = heap or settings.es_heap
    current = read_node(settings)
    if current and _alive(current.pid):
        on_step(f"Elasticsearch already running (pid {current.pid}); waiting for cluster health")
        wait_healthy(settings, current)
        return current
    if not (_home(settings) / "bin" / "elasticsearch").exists():
        on_step(f"fetching Elasticsearch {settings.es_version} with Maven and unpacking it (first start only)")
    home = _fetch_distribution(settings)
    port = _free_port(current.port if current else None)
    transport_port = _free_port()
    creds = _credentials(settings)
    creds["MEDIAMON_ES_URL"] = f"http://127.0.0.1:{port}"
    _write_credentials(settings, creds)
    on_step("configuring the node (elasticsearch.yml, keystore: one JVM start)")
    env = _configure(settings, home, port, transport_port, heap, creds)
    on_step(f"starting the JVM and waiting for cluster health on port {port} (log: {es_dir(settings) / 'logs'})")
    log_file = es_dir(settings) / "logs" / "console.log"
    with open(os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as out:
        proc = subprocess.Popen(
            [str(home / "bin" / "elasticsearch"), "-q"],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives the CLI; stop() signals the whole group
            **_run_as(),
        )
    info = NodeInfo(pid=proc.pid, port=port, url=f"http://127.0.0.1:{port}", version=settings.es_version)
    _state_path(settings).write_text(json.dumps(info.__dict__))
    try:
        wait_healthy(settings, info, proc=proc)
    except LocalESError:
        stop(settings)
        raise
    finally:  # read at start only: out of the keystore before anyone else can read it there
        _keystore(home, env, "remove", "bootstrap.password")
    return info


def _auth(settings: Settings) -> tuple[str, str]:
    creds = _credentials(settings)
    return "elastic", creds["MEDIAMON_ES_PASSWORD"]


def wait_healthy(settings: Settings, info: NodeInfo, proc: subprocess.Popen | None = None) -> dict:
    deadline = time.monotonic() + START_TIMEOUT_S
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise LocalESError(f"Elasticsearch exited with code {proc.returncode} while starting; see "
                               f"{es_dir(settings) / 'logs'}")
        try:
            resp = httpx.get(f"{info.url}/_cluster/health", params={"wait_for_status": "yellow", "timeout": "2s"},
                             auth=_auth(settings), timeout=5)
            if resp.status_code == 200 and resp.json().get("status") in ("yellow", "green"):
                return resp.json()
            if resp.status_code == 401:
                raise LocalESError(f"Elasticsearch at {info.url} refuses the password in "
                                   f"{settings.local_credentials_path}; `mediamon es stop` and start again")
            last_error = f"HTTP {resp.status_code}"
        except httpx.HTTPError as exc:
            last_error = type(exc).__name__
        time.sleep(1)
    raise LocalESError(f"Elasticsearch at {info.url} not healthy after {START_TIMEOUT_S}s ({last_error}); see "
                       f"{es_dir(settings) / 'logs'}")


def stop(settings: Settings, timeout: float = 60) -> bool:
    """Stop the node and make sure no process of it is left. Returns whether one was running."""
    info = read_node(settings)
    if info is None or not _alive(info.pid):
        _state_path(settings).unlink(missing_ok=True)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(info.pid):
        _reap(info.pid)
        time.sleep(0.2)
    if _alive(info.pid):
        log.warning("Elasticsearch did not stop within %ss; killing it", timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(info.pid, signal.SIGKILL)
        while _alive(info.pid):
            _reap(info.pid)
            time.sleep(0.1)
    _state_path(settings).unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def status(settings: Settings) -> dict:
    info = read_node(settings)
    if info is None or not _alive(info.pid):
        return {"running": False, "version": settings.es_version, "home": str(_home(settings))}
    try:
        health = httpx.get(f"{info.url}/_cluster/health", auth=_auth(settings), timeout=5).json()
    except httpx.HTTPError as exc:
        health = {"status": f"unreachable ({type(exc).__name__})"}
    return {"running": True, "pid": info.pid, "url": info.url, "version": info.version,
            "health": health.get("status"), "credentials_file": str(settings.local_credentials_path)}


# --- file realm: roles and users on a build without a native security index -----


def is_local(settings: Settings) -> bool:
    info = read_node(settings)
    return bool(info and settings.es_url and settings.es_url.rstrip("/") == info.url and _alive(info.pid))


def write_file_realm(settings: Settings, roles: dict[str, dict], users: dict[str, tuple[str, list[str]]]) -> bool:
    """Write roles.yml / users / users_roles of the local node; True when anything changed.

    The integ-test build cannot create the ``.security`` index (it lacks the
    analysis module its mapping needs), so roles and users live in the file realm,
    which Elasticsearch re-reads by itself within a second.
    """
    config = _home(settings) / "config"
    changed = False
    roles_path = config / "roles.yml"
    existing_roles = yaml.safe_load(roles_path.read_text()) or {} if roles_path.exists() else {}
    merged_roles = {**existing_roles, **roles}
    if merged_roles != existing_roles:
        _write_owned(roles_path, yaml.safe_dump(merged_roles, sort_keys=True))
        changed = True
    users_path, users_roles_path = config / "users", config / "users_roles"
    hashes = _read_colon_file(users_path)
    role_members: dict[str, set[str]] = {
        role: set(members.split(",")) for role, members in _read_colon_file(users_roles_path).items()
    }
    for user, (password, user_roles) in users.items():
        current = hashes.get(user)
        if current is None or not bcrypt.checkpw(password.encode(), current.replace("$2a$", "$2b$", 1).encode()):
            hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(10)).decode()
            hashes[user] = hashed.replace("$2b$", "$2a$", 1)  # the prefix Elasticsearch recognises
            changed = True
        for role in user_roles:
            if user not in role_members.setdefault(role, set()):
                role_members[role].add(user)
                changed = True
    if changed:
        _write_owned(users_path, "".join(f"{u}:{h}\n" for u, h in sorted(hashes.items())))
        _write_owned(users_roles_path, "".join(
            f"{r}:{','.join(sorted(m))}\n" for r, m in sorted(role_members.items()) if m))
    return changed


def _read_colon_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition(":")
        if sep and not line.startswith("#"):
            out[key] = value
    return out


def _write_owned(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    ids = _service_ids()
    if ids:
        os.chown(tmp, *ids)
    os.chmod(tmp, 0o640 if path.name != "roles.yml" else 0o644)
    tmp.replace(path)


__all__ = [
    "LOCAL_CREDENTIALS_FILE", "LocalESError", "NodeInfo", "find_java_home", "is_local", "read_node",
    "start", "status", "stop", "wait_healthy", "write_file_realm",
]
