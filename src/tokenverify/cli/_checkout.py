"""``tokenverify checkout``: check out of AWS License Manager and save the response.

The carry-in workflow: on a connected machine, check out (a borrow for offline use),
verify the response against the vendor's keys, save it atomically; carry the file to the
air-gapped site and ``tokenverify verify`` it there. Needs ``tokenverify[aws]`` (boto3).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._errors import TokenRejected
from .._times import parse_iso8601
from ._output import (
    CliError,
    Console,
    format_time,
    one_line,
    os_error_reason,
    printable,
    remedy,
)

__all__ = ["checkout", "license_manager_client"]


def license_manager_client(region: str | None, profile: str | None) -> Any:
    """A boto3 License Manager client (tests replace this function with a stubbed one)."""
    try:
        import boto3  # type: ignore[import-untyped]
        from botocore.exceptions import BotoCoreError  # type: ignore[import-untyped]
    except ImportError:
        raise CliError("checkout needs boto3: pip install 'tokenverify[aws]'") from None
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        return session.client("license-manager")
    except BotoCoreError as exc:
        hint = " (pass --region or set AWS_DEFAULT_REGION)" if "region" in str(exc) else ""
        raise CliError(f"cannot create a License Manager client: {exc}{hint}") from None


def checkout(args: argparse.Namespace, console: Console) -> int:
    """Check out, verify when ``--keys`` is given, save; 0 saved, 1 rejected (not saved)."""
    from .. import aws
    from ._node import resolve_node_id

    _check_arguments(args)
    # Resolved once: the NodeId sent to AWS is the one the verifier then expects.
    args = argparse.Namespace(**{**vars(args), "node_id": resolve_node_id(args), "namespace": None})
    verifier = None
    if args.keys is not None:
        from .._verifier import Verifier
        from ._keys import load_trust
        from ._verify import build_policy

        verifier = Verifier(
            load_trust(args.keys, args.fingerprint, args.algorithms), build_policy(args)
        )
    save_to = Path(args.save)
    if not save_to.parent.is_dir():
        raise CliError(f"cannot save to {args.save!r}: no folder {str(save_to.parent)!r}")
    client = license_manager_client(args.region, args.profile)
    operation = "CheckoutBorrowLicense" if args.borrow else "CheckoutLicense"
    try:
        if args.borrow:
            response = aws.checkout_borrow_license(
                client,
                license_arn=args.license_arn,
                entitlements=args.entitlement,
                node_id=args.node_id,
                checkout_metadata=dict(args.metadata) if args.metadata else None,
                client_token=args.client_token,
                verifier=verifier,
                save_to=save_to,
            )
        else:
            response = aws.checkout_license(
                client,
                product_sku=args.product_sku,
                key_fingerprint=args.fingerprint,
                entitlements=args.entitlement,
                node_id=args.node_id,
                checkout_type=args.checkout_type,
                beneficiary=args.beneficiary,
                client_token=args.client_token,
                verifier=verifier,
                save_to=save_to,
            )
    except TokenRejected as rejection:
        rejected = console.style("REJECTED", "red", stream="err")
        console.error(
            f"{rejected}  {operation} response: {rejection.reason.value}: "
            f"{one_line(rejection.description)}"
        )
        console.error(f"remedy: {remedy(rejection.reason, rejection.description)}")
        return 1
    except OSError as exc:
        raise CliError(
            f"checked out, but cannot save to {args.save!r}: {os_error_reason(exc)}"
        ) from None
    except Exception as exc:
        raise _aws_error(exc, operation) from None
    # The response is AWS's, unsigned until verified: printable() before the screen.
    console.print(f"checked out {printable(response.get('LicenseArn'))} ({operation})")
    console.print(f"  expires   {printable(_expiry(response.get('Expiration')))}")
    if verifier is not None:
        console.print(f"  verified  {console.style('VALID', 'green')} with {printable(args.keys)}")
    else:
        console.print("  verified  no (pass --keys to verify before saving)")
    console.print(f"  saved     {printable(args.save)} (the full response, for carry-in)")
    return 0


def _check_arguments(args: argparse.Namespace) -> None:
    if args.borrow:
        if args.license_arn is None:
            raise CliError("checkout --borrow needs --license-arn (CheckoutBorrowLicense)")
        if args.product_sku is not None or args.beneficiary is not None:
            raise CliError("--sku and --beneficiary are CheckoutLicense parameters, not --borrow")
    else:
        missing = [
            flag
            for flag, value in (("--sku", args.product_sku), ("--fingerprint", args.fingerprint))
            if value is None
        ]
        if missing:
            raise CliError(f"checkout needs {' and '.join(missing)} (or --borrow --license-arn A)")
        if args.metadata:
            raise CliError("--metadata is a CheckoutBorrowLicense parameter: add --borrow")
    if not args.entitlement:
        raise CliError("checkout needs at least one --entitlement Name=NAME,Unit=UNIT[,Value=V]")


def _aws_error(exc: Exception, operation: str) -> Exception:
    try:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
    except ImportError:  # pragma: no cover - boto3 was imported to get here
        return exc
    if isinstance(exc, NoCredentialsError):
        return CliError(
            f"{operation} failed: {exc} (configure AWS credentials: aws configure, "
            "AWS_PROFILE or --profile)"
        )
    if isinstance(exc, ClientError | BotoCoreError):
        return CliError(f"{operation} failed: {' '.join(str(exc).split())}")
    return exc


def _expiry(value: object) -> str:
    try:
        return format_time(parse_iso8601(value))
    except ValueError:
        return repr(value)
