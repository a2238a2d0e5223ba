"""A local AWS emulator (moto server, with tools.moto_server's fix-ups) on a free loopback port, stopped when the
block ends, also on failure.

    with Emulator(account_id="123456789012") as emulator:
        emulator.endpoint        # http://127.0.0.1:<port>
        emulator.client("ec2", "us-east-1")

Started with AWS managed policies loaded (stacks attach some), ACM certificates issued at once, and
MOTO_ACCOUNT_ID set to the deployment's account, so the providers' allowed_account_ids check passes. Every boto3 client it hands out
talks to 127.0.0.1 only, has timeouts, and never prefixes the account ID to the host (S3 Control would otherwise
send a DNS query off the machine).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
#: Credentials the emulator accepts; never real ones.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
#: moto settings: AWS managed policies exist (the stacks attach some); ACM certificates are issued at once.
SERVER_SETTINGS = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "MOTO_ACM_VALIDATION_WAIT": "0"}
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15


def _terminate(pid: int) -> None:
    """Stop a detached server by its process ID (gone already is fine). When this process started it, its exit
    status is collected too: a server that exited but was never waited for stays a zombie under its ID."""
    try:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if _reaped(pid):
                return
            os.kill(pid, 0)
            time.sleep(0.2)
        os.kill(pid, signal.SIGKILL)
        _reaped(pid)
    except ProcessLookupError:
        return


def _reaped(pid: int) -> bool:
    """Collect the exit status of `pid` if it is this process's child and has exited; False otherwise."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:  # not our child (another process started it), or collected already
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Emulator:
    """moto server as a context manager; `log_file` receives its output (default: discarded).

    `start(detached=True)` lets it outlive this process (make deploy-local, then drill-local and destroy-local);
    `Emulator.attach(port, pid)` picks such a server up again and `stop()` ends it.
    """

    def __init__(self, *, account_id: str = "123456789012", log_file: Path | None = None) -> None:
        self.account_id = account_id
        self.log_file = log_file
        self.port = 0
        self.pid: int | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def attach(cls, *, port: int, pid: int, account_id: str) -> Emulator:
        emulator = cls(account_id=account_id)
        emulator.port, emulator.pid = port, pid
        return emulator

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """Variables to add to an environment for Terraform and boto3 against the emulator: fake credentials, no
        proxies for loopback, no instance metadata."""
        return {
            **FAKE_CREDENTIALS,
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }

    def __enter__(self) -> Emulator:
        return self.start()

    def start(self, *, detached: bool = False) -> Emulator:
        self.port = free_port()
        env = {**os.environ, **self.environment(), **SERVER_SETTINGS, "MOTO_ACCOUNT_ID": self.account_id}
        log = open(self.log_file, "ab") if self.log_file else None  # noqa: SIM115 - the child keeps its own copy
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tools.moto_server", "-H", "127.0.0.1", "-p", str(self.port)],
                cwd=ROOT,
                stdout=log or subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=detached,
            )
        finally:
            if log is not None:
                log.close()
        self.pid = self.process.pid
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto server exited with {self.process.returncode} while starting")
            if self.alive():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"moto server did not answer on {self.endpoint} within {START_TIMEOUT_SECONDS} s")

    def alive(self) -> bool:
        """Whether the server answers on its port."""
        try:
            with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2):  # noqa: S310 - loopback URL
                return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after STOP_TIMEOUT_SECONDS)."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            return
        if self.pid is not None:
            _terminate(self.pid)

    def client(self, service: str, region: str, *, credentials: dict[str, str] | None = None, config: Config | None = None) -> Any:
        """A boto3 client bound to the emulator, with timeouts and no host prefix (stays on loopback).

        Default: the fake credentials (any request passes while IAM is not enforced); `credentials`
        ({"AccessKeyId", "SecretAccessKey", "SessionToken"?}) act as that identity. `config`: the caller's own
        timeouts and retries over these (the code under test keeps its own; the host prefix stays off)."""
        defaults = Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 2, "mode": "standard"})
        config = (defaults.merge(config) if config else defaults).merge(Config(inject_host_prefix=False))
        keys = credentials or {
            "AccessKeyId": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "SecretAccessKey": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "SessionToken": FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        }
        # A session of its own: tools.automation swaps boto3.client for the scripts it runs, which call this.
        return boto3.session.Session().client(
            service,
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys.get("SessionToken"),
            config=config,
        )

    def enforce_iam(self, enabled: bool) -> None:
        """Turn moto's IAM enforcement on (every request must be signed by a known identity whose policies allow the
        action) or off (anything goes); see tools.moto_server for what it enforces."""
        request = urllib.request.Request(  # noqa: S310 - loopback URL
            f"{self.endpoint}/moto-api/reset-auth",
            data=(b"0" if enabled else b"inf"),
            method="POST",
            headers={"Content-Type": "text/plain"},  # a form content type would hide the body from moto
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback URL
            if response.status != 200:
                raise RuntimeError(f"moto did not switch IAM enforcement {'on' if enabled else 'off'}: HTTP {response.status}")
