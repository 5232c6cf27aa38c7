"""``tokenverify verify`` and ``tokenverify inspect --unverified``.

``verify`` is the library's :meth:`Verifier.check` with a policy built from flags (or a
policy file) and a report for people or, with ``--json``, for programs. ``inspect``
decodes with the library's own parser and never calls anything trustworthy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from .. import _json
from .._errors import Reason, TokenRejected
from .._files import read_regular_file
from .._input import read_input
from .._keys import RegisteredKey
from .._policy import Policy
from .._registry import MAX_CANDIDATE_KEYS, KeyRegistry
from .._result import Verdict, VerifiedCheckout
from .._token import DEFAULT_MAX_TOKEN_SIZE, CompactToken, decode_segment, parse_compact
from .._verifier import Verifier
from ._keys import key_type, load_trust
from ._output import (
    CliError,
    Console,
    format_duration,
    format_time,
    one_line,
    os_error_reason,
    printable,
    remedy,
)

__all__ = ["build_policy", "inspect", "read_source", "verify"]

# A saved response may be this large (the library's own bound); one byte more is read so
# that an oversized input reaches the verifier and is rejected as too_large.
_MAX_DOCUMENT = 4 * DEFAULT_MAX_TOKEN_SIZE + 65536
_UNVERIFIED_BANNER = (
    "UNVERIFIED: decoded without checking signature, key, times or policy. Do not trust it."
)


def read_source(path: str) -> bytes:
    """The bytes of FILE, or of stdin for ``-``; unreadable input is a usage error."""
    if path == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise CliError("no input: pass a FILE, or pipe a checkout into stdin")
        return sys.stdin.buffer.read(_MAX_DOCUMENT + 1)
    try:
        # A FIFO or device named as FILE is refused, not read (it could block for ever).
        return read_regular_file(path, _MAX_DOCUMENT)
    except OSError as exc:
        raise CliError(f"cannot read {path!r}: {os_error_reason(exc)}") from None


def build_policy(args: argparse.Namespace) -> Policy:
    """``--policy`` file (if any) with the flags given beside it overriding its fields."""
    from ._node import resolve_node_id  # --node-id auto --namespace NAME

    overrides: dict[str, Any] = {
        "key_fingerprint": args.fingerprint,
        "node_id": resolve_node_id(args),
        "license_arn": args.license_arn,
        # 'checkout' names its --sku product_sku: a request field, not a demand on the token.
        "product_sku": getattr(args, "sku", None),
        "requirements": args.require or None,
        "leeway": args.leeway,
        # 'checkout' has its own --metadata (a request field): only verify's binds.
        "checkout_metadata": _metadata_flags(getattr(args, "checkout_metadata", None)),
        "typ": getattr(args, "typ", None),
        # verify's own: 'checkout' has no grace to give.
        "grace": getattr(args, "grace", None),
        "warn_before": getattr(args, "warn_before", None),
    }
    try:
        if args.policy is not None:
            from ..formats._policy_file import load_policy_file

            return load_policy_file(args.policy).to_policy(**overrides)
        return Policy(**{name: value for name, value in overrides.items() if value is not None})
    except (TypeError, ValueError) as exc:
        raise CliError(str(exc)) from None


def _metadata_flags(pairs: list[tuple[str, str]] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    metadata: dict[str, str] = {}
    for name, value in pairs:
        if metadata.setdefault(name, value) != value:
            raise CliError(f"--metadata names {name!r} twice, with different values")
    return metadata


def verify(args: argparse.Namespace, console: Console) -> int:
    """Verify one checkout; 0 valid, 1 rejected (or valid with warnings and --strict-warnings)."""
    registry = load_trust(args.keys, args.fingerprint, args.algorithms)
    policy = build_policy(args)
    data = read_source(args.source)
    now = args.at if args.at is not None else time.time()
    verdict = Verifier(registry, policy).check(data, now=now)
    if now == "issued":
        # What is shown (time left, checked_at) is relative to the instant judged at.
        checkout = verdict.checkout
        now = checkout.issued_at.timestamp() if checkout is not None else time.time()
    if args.json:
        _print_verify_json(args.source, verdict, now, console)
    elif verdict.checkout is not None:
        _print_valid(args.source, verdict.checkout, now, console)
    else:
        assert verdict.reason is not None
        _print_rejected(args.source, verdict.reason, verdict.message, console)
    if not verdict.ok:
        return 1
    if verdict.warnings and getattr(args, "strict_warnings", False):
        _print_strict_refusal(args.source, len(verdict.warnings), console)
        return 1
    return 0


def inspect(args: argparse.Namespace, console: Console) -> int:
    """Decode a token without trusting it; 0 decoded, 1 not even decodable."""
    if not args.unverified:
        raise CliError(
            "inspect shows a token's contents without checking them: add --unverified to "
            "confirm, or use 'tokenverify verify' to check it"
        )
    registry = load_trust(args.keys, args.fingerprint, args.algorithms) if args.keys else None
    data = read_source(args.source)
    try:
        token, envelope = read_input(data, DEFAULT_MAX_TOKEN_SIZE)
        parsed = parse_compact(token, DEFAULT_MAX_TOKEN_SIZE)
    except TokenRejected as rejection:
        # Not even decodable: one line on stderr, with or without --json.
        console.error(
            f"tokenverify: cannot decode {_label(args.source)}: {one_line(str(rejection))}"
        )
        return 1
    payload, payload_problem = _decode_payload(parsed)
    plaintext = _plaintext(envelope)
    candidates, note = _candidates(parsed, registry, args.fingerprint)
    if args.json:
        from ..formats._json_output import InspectReport, KeyReport

        report = InspectReport(
            source=args.source,
            header=dict(parsed.header),
            payload=payload,
            payload_problem=payload_problem,
            signature_bytes=len(parsed.signature),
            envelope=plaintext,
            keys_checked=registry is not None,
            candidate_keys=[KeyReport.from_key(key) for key in candidates],
            key_note=note,
        )
        console.print(report.model_dump_json(indent=2))
        return 0
    console.print(console.style(_UNVERIFIED_BANNER, "yellow"))
    console.print("header")
    console.print(_indent(_json_text(dict(parsed.header))))
    console.print("payload")
    if payload_problem is None:
        console.print(_indent(_json_text(payload)))
    else:
        console.print(f"  (not shown: {printable(payload_problem)})")
    console.print(f"signature  {len(parsed.signature)} bytes")
    if plaintext is not None:
        console.print("envelope (unsigned plaintext around the token)")
        console.print(_indent(_json_text(plaintext)))
    if registry is not None:
        if candidates:
            for key in candidates:
                console.print(
                    f"key        verify would try {key_type(key)} key {printable(key.thumbprint)} "
                    f"[{printable(', '.join(sorted(key.algorithms)))}] of {key.fingerprint!r}"
                    + _size_mismatch(key, len(parsed.signature))
                )
        else:
            console.print(f"key        no registered key would be tried: {printable(note)}")
    return 0


def _print_valid(source: str, checkout: VerifiedCheckout, now: float, console: Console) -> None:
    # Every value here is signed, but chosen by the licensee (nodeId, metadata,
    # entitlement names) or the vendor: printable() keeps it from driving the terminal.
    left = checkout.expiration.timestamp() - now
    if checkout.in_grace:
        console.print(f"{console.style('VALID IN GRACE', 'yellow')}  {_label(source)}")
    else:
        console.print(f"{console.style('VALID', 'green')}  {_label(source)}")
    rows = [
        ("license", checkout.license_arn),
        ("node", checkout.node_id or "(not bound to a node)"),
    ]
    if checkout.product_sku is not None:
        rows.append(("product", checkout.product_sku))
    if checkout.checkout_type is not None:
        rows.append(("type", checkout.checkout_type))
    rows.append(("entitlements", _entitlements(checkout) or "(none)"))
    if checkout.checkout_metadata:
        rows.append(
            ("metadata", ", ".join(f"{k}={v}" for k, v in checkout.checkout_metadata.items()))
        )
    rows += [
        ("issuer", f"{checkout.key_fingerprint} ({checkout.algorithm})"),
        ("issued", format_time(checkout.issued_at)),
        ("valid until", f"{format_time(checkout.expiration)} ({_time_left(left, checkout)})"),
    ]
    for name, value in rows:
        console.print(f"  {name:<13}{printable(value)}")
    _print_warnings(checkout, console)


def _print_warnings(checkout: VerifiedCheckout, console: Console) -> None:
    # One line each, like a rejection's: the messages quote key labels with repr(), and
    # one_line() escapes (printable()) whatever might still drive the terminal.
    for warning in checkout.warnings:
        label = console.style("warning", "yellow")
        console.print(f"{label}: {warning.code.value}: {one_line(warning.message)}")


def _print_strict_refusal(source: str, count: int, console: Console) -> None:
    rejected = console.style("REJECTED", "red", stream="err")
    console.error(
        f"{rejected}  {_label(source)}: --strict-warnings: valid, but with {count} "
        f"warning{'s' if count > 1 else ''}"
    )


def _print_rejected(source: str, reason: Reason, message: str, console: Console) -> None:
    rejected = console.style("REJECTED", "red", stream="err")
    console.error(f"{rejected}  {_label(source)}: {reason.value}: {one_line(message)}")
    console.error(f"remedy: {remedy(reason, message)}")


def _print_verify_json(source: str, verdict: Verdict, now: float, console: Console) -> None:
    from ..formats._json_output import (
        CheckoutReport,
        VerifyReport,
        WarningReport,
        checked_at_datetime,
    )

    report = VerifyReport(
        source=source,
        valid=verdict.ok,
        reason=verdict.reason,
        message=verdict.message,
        remedy=None if verdict.reason is None else remedy(verdict.reason, verdict.message),
        checked_at=checked_at_datetime(now),
        checkout=None
        if verdict.checkout is None
        else CheckoutReport.from_checkout(verdict.checkout, now),
        warnings=[WarningReport.from_warning(warning) for warning in verdict.warnings],
    )
    console.print(report.model_dump_json(indent=2))


def _entitlements(checkout: VerifiedCheckout) -> str:
    return ", ".join(
        e.name if e.value is None else f"{e.name} {e.value} {e.unit}" for e in checkout.entitlements
    )


def _time_left(seconds: float, checkout: VerifiedCheckout) -> str:
    if seconds >= 0:
        return f"{format_duration(seconds)} left"
    if checkout.in_grace:
        return f"expired {format_duration(-seconds)} ago, in grace"
    return f"expired {format_duration(-seconds)} ago, within the leeway"


def _decode_payload(parsed: CompactToken) -> tuple[Any, str | None]:
    try:
        return _json.loads_object(decode_segment(parsed.payload_segment, "payload")), None
    except ValueError as exc:  # TokenRejected is one too
        return None, str(exc)


def _plaintext(envelope: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if envelope is None:
        return None
    return {
        name: value
        for name, value in envelope.items()
        if name not in ("SignedToken", "ResponseMetadata")
    }


def _candidates(
    parsed: CompactToken, registry: KeyRegistry | None, fingerprint: str | None
) -> tuple[list[RegisteredKey], str | None]:
    if registry is None:
        return [], None
    found = registry.candidates(parsed.kid, fingerprint)
    if not found:
        from .._signature import check_signature

        # The library's own wording for "no key": ask it, and keep only the reason.
        try:
            check_signature(parsed, registry, fingerprint)
        except TokenRejected as rejection:
            return [], rejection.description
    usable = [key for key in found if key.check(parsed.algorithm) is not None]
    if not usable:
        pinned = sorted({alg for key in found for alg in key.algorithms})
        return [], (
            f"the token is signed with {parsed.algorithm} but the matching keys are pinned "
            f"to {', '.join(pinned)}"
        )
    return usable[:MAX_CANDIDATE_KEYS], None


def _size_mismatch(key: RegisteredKey, signature_bytes: int) -> str:
    # The commonest forgery support sees: a token signed by some other RSA key.
    public = key.public_key
    if isinstance(public, rsa.RSAPublicKey) and (public.key_size + 7) // 8 != signature_bytes:
        return (
            f"; but its signatures are {(public.key_size + 7) // 8} bytes and this one is "
            f"{signature_bytes}: another key signed it"
        )
    return ""


def _label(source: str) -> str:
    return "stdin" if source == "-" else printable(source)


def _json_text(value: Any) -> str:
    """Indented JSON, each line made printable (``unescape`` gives back the JSON text).

    ``json.dumps`` escapes C0 controls but leaves DEL, C1 (a CSI), bidi controls and
    line separators raw.
    """
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return "\n".join(printable(line) for line in text.split("\n"))


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
