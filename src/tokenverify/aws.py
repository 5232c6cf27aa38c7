"""Online helpers: check a license out of AWS License Manager and save it for carry-in.

Needs the ``aws`` extra (``pip install 'tokenverify[aws]'``) for a boto3 client; this
module itself imports neither boto3 nor anything else outside the standard library::

    import boto3
    import tokenverify as tv
    from tokenverify.aws import checkout_borrow_license

    node_id = tv.node.machine_id("my-product")   # the id the launch check will compute
    client = boto3.client("license-manager", region_name="us-east-1")
    checkout_borrow_license(
        client,
        license_arn="arn:aws:license-manager::111122223333:license:l-0123",
        entitlements=[("Users", "1", "Count")],
        node_id=node_id,
        verifier=tv.Verifier(registry, tv.Policy(node_id=node_id)),
        save_to="checkout.json",   # the whole response, written atomically
    )

On the air-gapped machine, ``Verifier(...).verify(Path("checkout.json"))`` checks it offline.
A response that fails verification is not saved; its consumption stays checked out on
AWS until it expires or is checked in (``CheckInLicense``), so the error says which.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from ._errors import TokenRejected
from ._files import write_atomically
from ._verifier import Verifier

__all__ = [
    "LicenseManagerClient",
    "checkout_borrow_license",
    "checkout_license",
    "save_checkout",
]

#: An entitlement to request: ``("Users", "10", "Count")``, ``("Pro", None, "None")``, or
#: the API's own ``{"Name": "Users", "Value": "10", "Unit": "Count"}``.
EntitlementRequest = tuple[str, str | None, str] | Mapping[str, str]


class LicenseManagerClient(Protocol):
    """What these helpers use of ``boto3.client("license-manager")``."""

    def checkout_license(self, **request: Any) -> Mapping[str, Any]: ...

    def checkout_borrow_license(self, **request: Any) -> Mapping[str, Any]: ...


def checkout_license(
    client: LicenseManagerClient,
    *,
    product_sku: str,
    key_fingerprint: str,
    entitlements: Iterable[EntitlementRequest],
    node_id: str | None = None,
    checkout_type: str = "PROVISIONAL",
    beneficiary: str | None = None,
    client_token: str | None = None,
    verifier: Verifier | None = None,
    save_to: str | os.PathLike[str] | None = None,
    now: datetime | float | None = None,
) -> dict[str, Any]:
    """Call ``CheckoutLicense``; verify (if ``verifier``) and save (if ``save_to``) it.

    Returns the full response. ``node_id`` binds the checkout to a machine: pass
    :func:`tokenverify.node.machine_id` of the product's namespace, the value its launch
    check expects. ``client_token`` defaults to a fresh UUID; pass the same one to retry
    idempotently. Raises :class:`TokenRejected` (nothing saved) if the
    verifier refuses the response; botocore's exceptions pass through.
    """
    request: dict[str, Any] = {
        "ProductSKU": product_sku,
        "CheckoutType": checkout_type,
        "KeyFingerprint": key_fingerprint,
        "Entitlements": _entitlement_request(entitlements),
        "ClientToken": client_token or uuid.uuid4().hex,
    }
    if node_id is not None:
        request["NodeId"] = node_id
    if beneficiary is not None:
        request["Beneficiary"] = beneficiary
    response = dict(client.checkout_license(**request))
    _keep(response, verifier, save_to, now)
    return response


def checkout_borrow_license(
    client: LicenseManagerClient,
    *,
    license_arn: str,
    entitlements: Iterable[EntitlementRequest],
    node_id: str | None = None,
    checkout_metadata: Mapping[str, str] | None = None,
    client_token: str | None = None,
    verifier: Verifier | None = None,
    save_to: str | os.PathLike[str] | None = None,
    now: datetime | float | None = None,
) -> dict[str, Any]:
    """Call ``CheckoutBorrowLicense`` (signed JWT_PS384, for offline use); verify and save.

    As :func:`checkout_license`; ``checkout_metadata`` ({"Mac": "..."}) is signed into
    the token.
    """
    request: dict[str, Any] = {
        "LicenseArn": license_arn,
        "Entitlements": _entitlement_request(entitlements),
        "DigitalSignatureMethod": "JWT_PS384",  # the only value the API defines
        "ClientToken": client_token or uuid.uuid4().hex,
    }
    if node_id is not None:
        request["NodeId"] = node_id
    if checkout_metadata:
        request["CheckoutMetadata"] = [
            {"Name": name, "Value": value} for name, value in checkout_metadata.items()
        ]
    response = dict(client.checkout_borrow_license(**request))
    _keep(response, verifier, save_to, now)
    return response


def _entitlement_request(entitlements: Iterable[EntitlementRequest]) -> list[dict[str, str]]:
    """The API's ``Entitlements`` list from tuples or ``{"Name", "Value", "Unit"}`` maps."""
    request = []
    for entitlement in entitlements:
        if isinstance(entitlement, Mapping):
            item = {k: entitlement[k] for k in ("Name", "Value", "Unit") if k in entitlement}
        else:
            name, value, unit = entitlement
            item = {"Name": name, "Unit": unit}
            if value is not None:
                item["Value"] = value
        request.append(item)
    return request


def save_checkout(response: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write the whole response as JSON, atomically: readers see the old file or the new.

    The data goes to a temporary file in the same folder, is synced to disk, then renamed
    over ``path``; a crash leaves no half-written checkout behind.
    """
    text = json.dumps(response, indent=2, ensure_ascii=False, default=_json_default) + "\n"
    write_atomically(Path(path), text.encode("utf-8"))


def _keep(
    response: dict[str, Any],
    verifier: Verifier | None,
    save_to: str | os.PathLike[str] | None,
    now: datetime | float | None,
) -> None:
    if verifier is not None:
        try:
            verifier.verify(response, now)
        except TokenRejected as rejection:
            consumption = response.get("LicenseConsumptionToken")
            raise TokenRejected(
                rejection.reason,
                f"{rejection.description} (not saved; consumption {consumption!r} stays "
                "checked out until it expires or CheckInLicense returns it)",
            ) from None
    if save_to is not None:
        save_checkout(response, save_to)


def _json_default(value: object) -> str:
    # botocore returns these times as strings; a datetime would come from other clients.
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot save a {type(value).__name__} in a checkout file")
