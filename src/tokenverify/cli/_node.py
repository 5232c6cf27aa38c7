"""``tokenverify node-id`` and ``--node-id auto``: this machine's id, as products compute it.

Both go through :func:`tokenverify.node.machine_identity`, so the id the command prints,
the one ``checkout --node-id auto`` sends to CheckoutLicense and the one a product's
``Policy(node_id=tv.node.machine_id(NAMESPACE))`` expects are the same value.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING

from .._display import printable
from ._output import CliError, Console

if TYPE_CHECKING:
    from ..node import MachineId

__all__ = ["AUTO", "node_id", "resolve_node_id"]

#: The ``--node-id`` value that means "this machine's id under --namespace".
AUTO = "auto"
# Files container runtimes leave at the root: a hint that /etc/machine-id is the image's.
_CONTAINER_MARKS = ("/.dockerenv", "/run/.containerenv")


def node_id(args: argparse.Namespace, console: Console) -> int:
    """Print this machine's id under ``--namespace`` (``--json``: with its source)."""
    identity = _identity(args.namespace)
    if args.json:
        document = {
            "format": "tokenverify-node-id",
            "version": 1,
            "node_id": identity.id,
            "namespace": identity.namespace,
            "source": identity.source,
        }
        console.print(json.dumps(document, indent=2))
    else:
        console.print(identity.id)
    mark = next((path for path in _CONTAINER_MARKS if os.path.exists(path)), None)
    if mark is not None:
        console.error(
            f"note: this looks like a container ({mark}): {printable(identity.source)} may be "
            "the image's, shared by every container started from it (see SECURITY.md)"
        )
    return 0


def resolve_node_id(args: argparse.Namespace) -> str | None:
    """``--node-id`` as given, or this machine's id when it is ``auto``.

    ``--namespace`` goes with ``--node-id auto`` and nothing else; either without the
    other is a usage error rather than a silently unbound or misbound checkout.
    """
    given: str | None = args.node_id
    namespace: str | None = getattr(args, "namespace", None)
    if given == AUTO:
        if namespace is None:
            raise CliError(
                "--node-id auto needs --namespace NAME (the product's name, as its launch "
                "check passes to tokenverify.node.machine_id)"
            )
        return _identity(namespace).id
    if namespace is not None:
        raise CliError("--namespace goes with --node-id auto")
    return given


def _identity(namespace: str) -> MachineId:
    from ..node import machine_identity

    try:
        return machine_identity(namespace)
    except (TypeError, ValueError, OSError) as exc:  # MachineIdError is an OSError
        raise CliError(str(exc)) from None
