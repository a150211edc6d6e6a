"""A real nginx serving a built site with the shipped deploy/nginx/hubs.conf.

Only the three deployment lines of that file change (where it listens, the build directory,
the events upstream), so tests behind it exercise production's caching, gzip, 404, proxy and
security header settings. The headers snippet it includes is the shipped one too, in snippets/
beside nginx.conf as in /etc/nginx. nginx runs in the foreground as a child process,
everything it writes under the test's directory, and is always stopped.
"""

from __future__ import annotations

import os
import pwd
import resource
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import require
from tests.ports import free_port
from tests.timing import seconds

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "hubs.conf"
HEADERS = SHIPPED.with_name("hubs-headers.conf")
LISTEN, ROOT, UPSTREAM = "listen 80;", "root /srv/hubs/build;", "server 127.0.0.1:8081;"
TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def nginx_binary() -> str:
    """The nginx executable; Debian puts it in /usr/sbin, which a user's PATH may lack."""
    found = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if found is None:
        require("nginx is not installed")
    return found


def site_config(listen: str, root: Path, upstream: str) -> str:
    """The shipped server config with its deployment lines replaced; fails naming a line that
    is gone, so the tests never pass against a config that drifted from what they check."""
    text = SHIPPED.read_text(encoding="utf-8")
    for line, replacement in ((LISTEN, f"listen {listen};"), (ROOT, f'root "{root}";'),
                              (UPSTREAM, f"server {upstream};")):
        if text.count(line) != 1:
            pytest.fail(f"{SHIPPED} must contain the line {line!r} exactly once "
                        f"(found {text.count(line)}); the nginx tests substitute it")
        text = text.replace(line, replacement)
    return text


def main_config(work: Path, site: Path) -> str:
    """An nginx.conf that includes *site* from its http block, as /etc/nginx/nginx.conf does
    conf.d/, and keeps its pid, logs and temporary files in *work*."""
    # Run as root, nginx would start its workers as nobody, who cannot read pytest's 0700 tmp.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    temp_paths = "".join(f"    {kind}_temp_path {work / kind};\n" for kind in TEMP_KINDS)
    return (f"{user}daemon off;\n"
            f"worker_processes 1;\n"
            f"worker_rlimit_nofile {_open_files_limit()};\n"
            f"pid {work / 'nginx.pid'};\n"
            f"error_log {work / 'error.log'};\n"
            f"events {{ worker_connections 8192; }}\n"
            f"http {{\n"
            f"    include /etc/nginx/mime.types;\n"
            f"    default_type application/octet-stream;\n"
            f"    access_log {work / 'access.log'};\n"
            f"{temp_paths}"
            f"    include {site};\n"
            f"}}\n")


def _open_files_limit() -> int:
    """As many descriptors as this process may have, up to two per connection (client and
    upstream), so a benchmark can hold thousands of event streams."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    wanted = 2 * 8192 + 64
    return wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)


@contextmanager
def running_nginx(build_dir: Path, upstream: str, tmp_path: Path) -> Iterator[str]:
    """Serve *build_dir* on a free loopback port, proxying /events to *upstream* ("HOST:PORT");
    yield the base URL, "http://127.0.0.1:PORT" without a trailing slash.

    Skips without nginx (fails under CI=true); fails with nginx's own words if the config is
    invalid or nginx does not come up. Configs and logs stay in tmp_path/nginx for a post-mortem.
    """
    binary = nginx_binary()
    work = tmp_path / "nginx"
    work.mkdir()
    port = free_port()
    (work / "snippets").mkdir()
    shutil.copy(HEADERS, work / "snippets" / HEADERS.name)
    site = work / "hubs.conf"
    site.write_text(site_config(f"127.0.0.1:{port}", build_dir.resolve(), upstream))
    conf = work / "nginx.conf"
    conf.write_text(main_config(work, site))
    command = [binary, "-p", str(work), "-e", str(work / "error.log"), "-c", str(conf)]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=seconds(30),
                             check=False)
    if checked.returncode != 0:
        pytest.fail(f"nginx -t rejected {site}:\n{checked.stderr}")
    with (work / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        _wait_for_port(process, port, work)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()  # SIGTERM: fast shutdown, open event streams included
        try:
            process.wait(seconds(10))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_port(process: subprocess.Popen[bytes], port: int, work: Path,
                   timeout: float = 30.0) -> None:
    deadline = time.monotonic() + seconds(timeout)
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log = (work / "error.log").read_text(errors="replace")
            pytest.fail(f"nginx did not accept connections on port {port} "
                        f"(exit code {process.poll()}):\n{log}")
        time.sleep(0.02)
