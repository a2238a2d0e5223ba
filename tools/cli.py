"""What every command-line tool does with a failure: one clear line on standard error and a non-zero exit, never a
traceback.

    @command("plan")
    def main(argv: list[str] | None = None) -> int: ...

Exit codes: 2 for what the user must fix before anything can run (configuration, credentials, a missing
program or input file), 1 for a run that failed, 130 when interrupted. Anything unexpected is still one line
naming its type; HADR_DEBUG=1 shows the traceback.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    MetadataRetrievalError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
)

from modules.errors import InputError

EXIT_FAILED = 1
EXIT_SETUP = 2
EXIT_INTERRUPTED = 130
CREDENTIAL_HELP = "set AWS_PROFILE (and run `aws sso login` for an SSO profile) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
#: Every way botocore says the credentials it was pointed at cannot be had: environment, shared files, SSO,
#: credential_process, container and instance roles.
CREDENTIAL_ERRORS = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    MetadataRetrievalError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)
F = TypeVar("F", bound=Callable[..., int])


class ToolError(RuntimeError):
    """A failure whose message is the whole story: printed as one line, exit `code`."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def require_credentials() -> None:
    """Resolve the AWS credentials now, so a tool fails before its first step rather than in the middle."""
    credentials = boto3.Session().get_credentials()  # raises for a profile that does not exist
    if credentials is None:
        raise NoCredentialsError()
    credentials.get_frozen_credentials()  # an SSO, process or role provider fetches here, and raises if it cannot


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def _client_error(error: ClientError) -> str:
    details = error.response.get("Error", {})
    return f"AWS refused {error.operation_name}: {details.get('Code')}: {details.get('Message')}"


def _timeout(error: subprocess.TimeoutExpired) -> str:
    program = os.path.basename(str(error.cmd[0] if isinstance(error.cmd, list | tuple) else error.cmd))
    return f"{program} did not finish within {error.timeout:.0f} s"


#: (failure type, its line, exit code), first match wins.
EXPLAINED: tuple[tuple[Any, Callable[[Any], str], int], ...] = (
    (ToolError, str, EXIT_FAILED),
    (CREDENTIAL_ERRORS, lambda error: f"no usable AWS credentials ({error}): {CREDENTIAL_HELP}", EXIT_SETUP),
    (NoRegionError, lambda _: "no AWS region: set AWS_REGION", EXIT_SETUP),
    ((EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError), lambda error: f"AWS did not answer: {error}", EXIT_FAILED),
    (ClientError, _client_error, EXIT_FAILED),
    (BotoCoreError, lambda error: f"AWS client error: {error}", EXIT_FAILED),
    (subprocess.TimeoutExpired, _timeout, EXIT_FAILED),
    (KeyboardInterrupt, lambda _: "interrupted", EXIT_INTERRUPTED),
)


def explain(error: BaseException) -> tuple[str, int] | None:
    """The one line and exit code for a failure a tool can meet, or None for one it should not."""
    for kind, line, code in EXPLAINED:
        if isinstance(error, kind):
            return line(error), getattr(error, "code", code) if isinstance(error, ToolError) else code
    return None


def command(tool: str) -> Callable[[F], F]:
    """Decorate a tool's `main`: known failures become `[tool] <what went wrong>` and an exit code."""

    def decorate(main: F) -> F:
        @functools.wraps(main)
        def guarded(*args: object, **kwargs: object) -> int:
            try:
                return main(*args, **kwargs)
            except InputError as error:
                print(error.render(), file=sys.stderr, flush=True)
                return EXIT_SETUP
            except (Exception, KeyboardInterrupt) as error:
                explained = explain(error)
                if explained is None:
                    if os.environ.get("HADR_DEBUG"):
                        raise
                    explained = f"unexpected {type(error).__name__}: {error} (HADR_DEBUG=1 shows the traceback)", EXIT_FAILED
                message, code = explained
                print(f"[{tool}] {one_line(message)}", file=sys.stderr, flush=True)
                return code

        return guarded  # type: ignore[return-value]

    return decorate
