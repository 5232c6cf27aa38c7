"""How the command line talks: colour (or not), one-line errors, remedies, durations.

Every value a token, key file or file name carries is shown through
``_display.printable`` (re-exported here as :func:`printable`), whatever the TTY state:
a CR, an escape sequence or a bidi override in a signed claim, a key label or a file
name is printed as ``\\r``, ``\\x1b``, ``\\u202e``, never sent to the terminal raw.
Error lines go through :func:`one_line`. Machine formats (``--json``) stay exact.

Imports nothing heavy: the human ``verify`` path must stay as quick as the library.
"""

from __future__ import annotations

import errno
import os
import sys
from datetime import UTC, datetime
from typing import TextIO

from .._display import printable
from .._errors import OFF_STANDARD_SALT, Reason

__all__ = [
    "REMEDIES",
    "CliError",
    "Console",
    "StreamError",
    "describe_os_error",
    "format_duration",
    "format_time",
    "one_line",
    "os_error_reason",
    "printable",
    "remedy",
]

#: What to do about each rejection, printed on stderr after the reason (exit code 1).
REMEDIES: dict[Reason, str] = {
    Reason.malformed: (
        "pass the whole saved CheckoutLicense/CheckoutBorrowLicense response, or the "
        "SignedToken itself, unedited"
    ),
    Reason.too_large: "this is not a checkout token; check which file you passed",
    Reason.unsupported_algorithm: (
        "the token's alg is not one its trusted key is pinned to: check the key's algorithms "
        "with 'tokenverify keys list' (AWS signs PS384 or PS256), or suspect a forgery"
    ),
    Reason.unsupported_header: (
        "the token uses JWS features AWS License Manager does not emit, or a typ other "
        "than the pinned one (--typ); it was not issued as is"
    ),
    Reason.unknown_key: (
        "register the issuer's public key: tokenverify keys add KEY.pem --keys KEYS "
        "--fingerprint F --algorithms PS384"
    ),
    Reason.key_not_valid: (
        "the signing key was outside its trusted validity window; see 'tokenverify keys list'"
    ),
    Reason.bad_signature: (
        "the token was altered or signed by another key: check out again and do not edit "
        "the saved file"
    ),
    Reason.invalid_claims: (
        "the signed payload is not a usable License Manager checkout; check out again"
    ),
    Reason.not_yet_valid: (
        "check this machine's clock (or --at); allow for clock skew with --leeway SECONDS"
    ),
    Reason.expired: (
        "re-run CheckoutLicense (or CheckoutBorrowLicense); ExtendLicenseConsumption does "
        "not renew the signed expiry"
    ),
    Reason.node_mismatch: "check out again with the NodeId of this machine (or fix --node-id)",
    Reason.license_mismatch: "check out from the license this product expects (--license-arn)",
    Reason.product_mismatch: (
        "check out the product SKU this product expects (--sku); if the token signs no "
        "productSKU (AWS's sample signs none), bind by --license-arn instead"
    ),
    Reason.metadata_mismatch: (
        "check out (CheckoutBorrowLicense) with the Metadata this product expects, "
        "or fix --metadata"
    ),
    Reason.entitlement_missing: "check out again including the entitlement --require names",
    Reason.entitlement_insufficient: (
        "check out a larger quantity of the entitlement, or lower the --require minimum"
    ),
    Reason.envelope_mismatch: (
        "the saved response was edited after checkout: save the response again, unedited"
    ),
    Reason.revoked: "this checkout was revoked; check out again",
    Reason.clock_rollback: "the system clock went backwards since the last check; fix the clock",
}

_COLOURS = {"green": "32", "red": "31", "yellow": "33", "bold": "1", "dim": "2"}


class CliError(Exception):
    """A usage or configuration problem: printed as one line, exit code 2."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class StreamError(OSError):
    """Writing to standard output or error failed (full disk, closed terminal)."""

    def __init__(self, error: OSError, stream: str) -> None:
        super().__init__(error.errno, error.strerror or str(error))
        self.stream = stream


class Console:
    """stdout and stderr, with colour only where it will be read by a person.

    ``mode`` is ``auto`` (colour on a terminal unless ``NO_COLOR`` is set and not empty,
    or ``TERM=dumb``), ``always`` or ``never``.
    """

    def __init__(
        self, mode: str = "auto", out: TextIO | None = None, err: TextIO | None = None
    ) -> None:
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self._colour_out = _wants_colour(mode, self.out)
        self._colour_err = _wants_colour(mode, self.err)

    def print(self, text: str = "") -> None:
        """A line on stdout; ``StreamError`` if it cannot be written (not a broken pipe)."""
        try:
            print(text, file=self.out)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StreamError(exc, "standard output") from exc

    def error(self, text: str) -> None:
        """A line on stderr."""
        print(text, file=self.err)

    def style(self, text: str, colour: str, *, stream: str = "out") -> str:
        """``text`` in ``colour`` if that stream gets colour."""
        enabled = self._colour_out if stream == "out" else self._colour_err
        if not enabled:
            return text
        return f"\x1b[{_COLOURS[colour]}m{text}\x1b[0m"


def remedy(reason: Reason, message: str) -> str:
    """What to do about a rejection: by reason, and for a signer bug by what was found."""
    if reason is Reason.bad_signature and OFF_STANDARD_SALT in message:
        return (
            "the issuer's signer uses a non-standard RSASSA-PSS salt (not tampering): sign "
            "with salt = hash length, as AWS KMS does; a test double such as moto's KMS "
            "cannot mint tokens that verify"
        )
    return REMEDIES[reason]


def _wants_colour(mode: str, stream: TextIO) -> bool:
    if mode == "always":
        return True
    if mode == "never":
        return False
    # https://no-color.org: present and not empty disables colour.
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def one_line(text: str) -> str:
    """An error message as one line with nothing that drives a terminal.

    Runs of whitespace (newlines included) become one space, as before; if anything
    non-printable remains (an escape sequence, a bidi control), the line is escaped with
    ``printable``. Values are mostly quoted with ``repr()`` already, which is printable
    and left as it is.
    """
    line = " ".join(text.split())
    return line if line.isprintable() else printable(line)


#: What to do about the errors a file system gives, by errno.
_OS_ADVICE = {
    errno.ENOSPC: "free some space (or use another folder), then run again",
    errno.EDQUOT: "free some space within your quota, then run again",
    errno.EROFS: "use a writable folder",
    errno.EACCES: "check the permissions of the file and its folder",
    errno.EPERM: "check the permissions of the file and its folder",
    errno.ENOENT: "check the path (was it moved or deleted?)",
    errno.ENOTDIR: "check the path: a part of it is not a folder",
    errno.EISDIR: "name a file, not a folder",
    errno.ELOOP: "name the file itself, not a symbolic link",
    errno.EIO: "the disk or network mount may be failing",
}


def describe_os_error(exc: OSError, *, what: str | None = None) -> str:
    """``'FILE': <the error>; <what to do>`` for an OSError at the edge.

    ``what`` names a stream instead (``standard output``) when the error has no file.
    """
    if what is not None:
        subject = f"cannot write to {what}"
    elif exc.filename is not None:
        subject = repr(os.fsdecode(exc.filename))
    else:
        subject = "a file or stream"
    return f"{subject}: {os_error_reason(exc)}"


def os_error_reason(exc: OSError) -> str:
    """``<the error>; <what to do>``, without the file name."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    advice = _OS_ADVICE.get(exc.errno) if exc.errno is not None else None
    return reason + (f"; {advice}" if advice else "")


def format_time(moment: datetime) -> str:
    """``2026-05-01T12:00:00Z``: UTC, whole seconds, an explicit zone."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_duration(seconds: float) -> str:
    """``45 s``, ``59 min``, ``23 h 59 min``, ``3 d 4 h`` (rounded down)."""
    whole = int(abs(seconds))
    if whole < 60:
        text = f"{whole} s"
    elif whole < 3600:
        text = f"{whole // 60} min"
    elif whole < 86400:
        text = f"{whole // 3600} h {whole % 3600 // 60} min"
    else:
        text = f"{whole // 86400} d {whole % 86400 // 3600} h"
    return text if seconds >= 0 else f"-{text}"
