"""The whole ``tokenverify`` argparse tree, built by :func:`build_parser`.

Every command's flags, help and examples are declared here (``audit`` declares its own,
in :mod:`tokenverify.cli._audit`); the handlers live one module per command and are
imported only when their command runs (:func:`tokenverify.cli._args.lazy`), so building
the parser imports no command's dependencies.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._args import (
    REQUIRE_SYNTAX,
    Parser,
    add_common,
    add_namespace,
    add_policy,
    add_trust,
    command,
    lazy,
    parse_algorithms,
    parse_duration,
    parse_entitlement,
    parse_metadata,
    parse_requirement,
    parse_time,
)
from ._audit import add_audit_command

__all__ = ["build_parser"]

_ALGORITHMS = [
    "PS256",
    "PS384",
    "PS512",
    "RS256",
    "RS384",
    "RS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
]

_DESCRIPTION = """\
Verify AWS License Manager checkout tokens offline: signature, key, node, time and
entitlements, from a saved CheckoutLicense / CheckoutBorrowLicense response or a bare
SignedToken."""
_EPILOG = """\
examples:
  tokenverify demo
  tokenverify keys add issuer-public.pem --keys keys.json \\
      --fingerprint 'aws:111122223333:My Company:issuer-fingerprint' --algorithms PS384
  tokenverify verify checkout.json --keys keys.json --node-id node-7 --require 'Users>=5 Count'
  tokenverify inspect checkout.json --unverified --keys keys.json
  tokenverify mint --issuer-key test-issuer.pem --fingerprint F --node-id node-7 --out t.json
  tokenverify checkout --borrow --license-arn ARN --entitlement Name=Users,Unit=Count,Value=1 \\
      --node-id node-7 --keys keys.json --save checkout.json
  tokenverify schema policy > policy.schema.json
  tokenverify audit store/ --keys keys.json --format html --output audit.html
  tokenverify node-id --namespace my-product
  tokenverify keys export --keys keys.json --python trust_anchors.py

exit codes: 0 valid (or done), 1 token rejected, 2 usage or configuration error,
130 interrupted.
environment: NO_COLOR (set and not empty) turns colour off; AWS_* configure 'checkout'.
'tokenverify COMMAND --help' shows each command's options and an example."""

_VERIFY_EPILOG = f"""\
--require takes {REQUIRE_SYNTAX};
repeat it for several. Flags given beside --policy override the file's fields (--require
replaces its requirements).
--at takes YYYY-MM-DDThh:mm:ss[.fff][Z|+hh:mm] (no zone = UTC), epoch seconds, or
'issued' (was it valid when it was issued: expiry judged at its own issuedAt).
--keys is a keys file ('tokenverify keys add'), or a bare public key (PEM, DER, JWK,
JWKS, 'aws kms get-public-key' JSON) together with --fingerprint and, for RSA, --algorithms.
A valid checkout may print warnings, one line each (code: message): in_grace,
expires_soon, key_expires_soon, node_not_checked (no --node-id given).

examples:
  tokenverify verify checkout.json --keys keys.json --node-id node-7 --require 'Users>=5 Count'
  tokenverify verify checkout.json --keys keys.json --node-id auto --namespace my-product \\
      --grace 3d --warn-before 7d
  aws license-manager checkout-borrow-license ... | tokenverify verify - --keys keys.json
  tokenverify verify checkout.json --keys keys.json --policy policy.json --json
  tokenverify verify checkout.json --keys issuer.pem --algorithms PS384 \\
      --fingerprint 'aws:111122223333:My Company:issuer-fingerprint'

exit codes: 0 valid (warnings or not), 1 rejected (reason and remedy on stderr) or, with
--strict-warnings, valid with warnings, 2 usage or configuration error."""

_INSPECT_EPILOG = """\
Nothing shown is verified: the output is labelled UNVERIFIED, and --unverified is required
to say you know. With --keys, says which registered keys 'verify' would try.

example:
  tokenverify inspect checkout.json --unverified --keys keys.json"""

_KEYS_EPILOG = """\
examples:
  tokenverify keys add issuer-public.pem --keys keys.json \\
      --fingerprint 'aws:111122223333:My Company:issuer-fingerprint' --algorithms PS384
  aws kms get-public-key --key-id ARN --output json | tokenverify keys add - --keys keys.json \\
      --fingerprint 'aws:111122223333:My Company:issuer-fingerprint'
  tokenverify keys list --keys keys.json
  tokenverify keys show --keys keys.json -- THUMBPRINT
  tokenverify keys remove --keys keys.json --fingerprint F --thumbprint=THUMBPRINT
  tokenverify keys schema > keys.schema.json
  tokenverify keys export --keys keys.json --python trust_anchors.py"""

_EXPORT_EPILOG = """\
Writes a Python module holding the keys (PEM, algorithms, validity, thumbprints, labels,
key ids) for the product to import and ship inside its signed code:
registry = trust_anchors.registry() then checks each key as 'keys add' does and refuses an
entry edited by hand. The same keys give the same bytes. An existing file is replaced only
with --force, and only if it is an earlier export.

examples:
  tokenverify keys export --keys keys.json --python src/myapp/trust_anchors.py
  tokenverify keys export --keys keys.json --python - | diff - src/myapp/trust_anchors.py"""

_NODE_EPILOG = """\
Prints this machine's id under NAMESPACE: HMAC-SHA-256 of the OS machine identity
(/etc/machine-id, /var/lib/dbus/machine-id, DMI product_uuid; macOS IOPlatformUUID;
Windows MachineGuid), keyed by the namespace. A product computes the same value with
tokenverify.node.machine_id(NAMESPACE); 'checkout --node-id auto --namespace NAMESPACE'
sends it as NodeId. Cloned VMs and containers share their image's machine id: see
SECURITY.md.

examples:
  tokenverify node-id --namespace my-product
  tokenverify node-id --namespace my-product --json"""

_MINT_EPILOG = """\
Test material only: the key is a test issuer key and every response minted carries
"TokenverifyTestIssuer". --entitlement takes AWS CLI shorthand, Name=Users,Unit=Count,Value=10
(repeat it; default Users 10 Count). --ttl takes 90s, 30m, 1h or 2d. Tokens are padded to
4096 characters (botocore's minimum) with a "tokenverifyTestPadding" claim; --min-length 0
turns that off.

examples:
  tokenverify mint --new-key test-issuer.pem
  tokenverify mint --issuer-key test-issuer.pem --fingerprint F --node-id node-7 \\
      --entitlement Name=Users,Unit=Count,Value=10 --ttl 1h --out checkout.json
  tokenverify mint --issuer-key test-issuer.pem --fingerprint F --borrow \\
      --metadata Mac=02:42:ac:11:00:02
  tokenverify mint --issuer-key test-issuer.pem --fingerprint F --issued-at 2020-01-01T00:00:00Z
  tokenverify mint --issuer-key test-issuer.pem --fingerprint F --borrow --typ JWS --x5c 2 \\
      --kid arn:aws:kms:us-east-1:111122223333:key/EXAMPLE --metadata Mac=m-1 \\
      --metadata-shape api-list --claim 'licenseDetails={"tier": "pro"}'"""

_CHECKOUT_EPILOG = """\
Calls AWS License Manager with boto3 (pip install 'tokenverify[aws]'), using the usual AWS
credentials and region (--profile, --region, AWS_* variables). The whole response is saved
atomically; with --keys it is verified first and not saved if rejected.

examples:
  tokenverify checkout --sku SKU \\
      --fingerprint 'aws:294406891311:AWS/Marketplace:issuer-fingerprint' \\
      --entitlement Name=Users,Unit=Count,Value=1 --node-id node-7 --save checkout.json
  tokenverify checkout --borrow --license-arn ARN --entitlement Name=Users,Unit=Count,Value=1 \\
      --node-id node-7 --metadata Mac=02:42:ac:11:00:02 --keys keys.json --save checkout.json
  tokenverify checkout --borrow --license-arn ARN --entitlement Name=Users,Unit=Count,Value=1 \\
      --node-id auto --namespace my-product --keys keys.json --save checkout.json"""

_SCHEMA_EPILOG = """\
examples:
  tokenverify schema policy > policy.schema.json
  tokenverify schema verify    # the shape of 'verify --json'"""

_DEMO_EPILOG = """\
example:
  tokenverify demo --dir scratch/demo && tokenverify keys list --keys scratch/demo/keys.json"""


def build_parser() -> argparse.ArgumentParser:
    """The ``tokenverify`` parser: every command, flag, help text and example.

    Each command's handler is stored as the ``handler`` default and imported only when
    it runs. The docs render the CLI reference from this parser, and ``tokenverify
    completion`` the shell completion scripts.
    """
    from .. import __version__

    parser = Parser(
        prog="tokenverify",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"tokenverify {__version__}")
    add_common(parser, top=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    verify = command(commands, "verify", "verify a saved checkout or token", _VERIFY_EPILOG)
    verify.add_argument(
        "source",
        nargs="?",
        default="-",
        metavar="FILE|-",
        help="saved response or token (default: stdin)",
    )
    add_trust(verify, required=True)
    add_policy(verify)
    verify.add_argument(
        "--at",
        type=_parse_verify_at,
        metavar="issued|TIME",
        help="check as of TIME, or at its own issuedAt ('issued'), not now",
    )
    verify.add_argument(
        "--grace",
        type=parse_duration,
        metavar="DURATION",
        help="keep an expired checkout valid this long past expiry + leeway (e.g. 3d), warned",
    )
    verify.add_argument(
        "--warn-before",
        type=parse_duration,
        metavar="DURATION",
        help="warn (expires_soon) this long before the expiry, e.g. 7d",
    )
    verify.add_argument(
        "--strict-warnings",
        action="store_true",
        help="exit 1 when a valid checkout has warnings (in_grace, node_not_checked, ...)",
    )
    verify.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (schema: 'tokenverify schema verify')",
    )
    verify.set_defaults(handler=lazy("_verify", "verify"))

    inspect = command(commands, "inspect", "decode a token WITHOUT verifying it", _INSPECT_EPILOG)
    inspect.add_argument("source", metavar="FILE|-", help="saved response or token ('-' = stdin)")
    inspect.add_argument(
        "--unverified", action="store_true", help="required: you know nothing is checked"
    )
    add_trust(inspect, required=False)
    inspect.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (schema: 'tokenverify schema inspect')",
    )
    inspect.set_defaults(handler=lazy("_verify", "inspect"))

    _add_keys_commands(commands)
    _add_mint_command(commands)
    _add_checkout_command(commands)
    _add_node_command(commands)

    add_audit_command(commands)

    schema = command(commands, "schema", "print a JSON Schema", _SCHEMA_EPILOG)
    schema.add_argument(
        "document",
        choices=["keys", "policy", "verify", "inspect", "audit"],
        help="keys file, policy file, 'verify --json', 'inspect --json' or 'audit --format json'",
    )
    schema.set_defaults(handler=lazy("_schema", "print_schema"))

    demo = command(
        commands, "demo", "mint a demo issuer and saved checkouts, then verify them", _DEMO_EPILOG
    )
    demo.add_argument(
        "--dir",
        type=Path,
        default=Path("scratch/demo"),
        help="where to write (default: scratch/demo)",
    )
    demo.set_defaults(handler=lazy("_demo", "demo"))

    completion = command(
        commands,
        "completion",
        "print a shell completion script, made from this parser",
        "examples:\n"
        "  source <(tokenverify completion bash)\n"
        '  tokenverify completion zsh > "${fpath[1]}/_tokenverify"\n'
        "  tokenverify completion fish > ~/.config/fish/completions/tokenverify.fish",
    )
    completion.add_argument("shell", choices=["bash", "zsh", "fish"], help="the shell")
    # The script is generated from the whole parser, so the handler is handed it.
    completion.set_defaults(handler=lazy("_completion", "print_completion"), root=parser)
    return parser


def _parse_verify_at(text: str) -> str | float:
    """``verify --at``: ``issued`` or a TIME."""
    return "issued" if text == "issued" else parse_time(text)


def _add_keys_commands(commands: argparse._SubParsersAction[Parser]) -> None:
    keys = command(commands, "keys", "manage the trusted issuer keys file", _KEYS_EPILOG)
    actions = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")

    add = command(
        actions, "add", "import a public key (PEM, DER, JWK, JWKS, KMS JSON)", _KEYS_EPILOG
    )
    add.add_argument("source", metavar="KEYFILE|-", help="the public key ('-' = stdin)")
    add.add_argument(
        "--keys", required=True, metavar="KEYS", help="keys file to update (created if absent)"
    )
    add.add_argument(
        "--fingerprint", required=True, metavar="F", help="issuer key fingerprint the key signs for"
    )
    add.add_argument(
        "--algorithms",
        type=parse_algorithms,
        metavar="ALGS",
        help="pin to these, e.g. PS384 or PS384,PS256",
    )
    add.add_argument(
        "--not-before", metavar="TIME", help="trust only tokens issued from TIME (ISO 8601)"
    )
    add.add_argument(
        "--not-after", metavar="TIME", help="trust only tokens issued until TIME (ISO 8601)"
    )
    add.add_argument("--label", help="a note for people, e.g. 'KMS key of 2026'")
    add.add_argument("--key-id", metavar="ID", help="the token header kid this key answers to")
    add.set_defaults(handler=lazy("_keys", "add_key"))

    listing = command(
        actions, "list", "show every key: type, algorithms, validity, thumbprint", _KEYS_EPILOG
    )
    listing.add_argument("--keys", required=True, metavar="KEYS", help="keys file")
    listing.set_defaults(handler=lazy("_keys", "list_keys"))

    show = command(
        actions, "show", "show keys by thumbprint, fingerprint or key id, with PEM", _KEYS_EPILOG
    )
    show.add_argument(
        "selector",
        metavar="THUMBPRINT|FINGERPRINT|KEY_ID",
        help="which keys; one that starts with '-' (a thumbprint in 64 does) goes after '--'",
    )
    show.add_argument("--keys", required=True, metavar="KEYS", help="keys file")
    show.set_defaults(handler=lazy("_keys", "show_keys"))

    remove = command(actions, "remove", "forget a key", _KEYS_EPILOG)
    remove.add_argument("--keys", required=True, metavar="KEYS", help="keys file")
    remove.add_argument("--fingerprint", required=True, metavar="F")
    remove.add_argument(
        "--thumbprint",
        metavar="T",
        # A thumbprint may start with '-' (base64url): written as --thumbprint=T it cannot
        # be mistaken for an option.
        help="the key to remove (see 'keys list'); write --thumbprint=T",
    )
    remove.add_argument("--all", action="store_true", help="remove every key of the fingerprint")
    remove.set_defaults(handler=lazy("_keys", "remove_keys"))

    schema = command(actions, "schema", "print the keys file's JSON Schema", _KEYS_EPILOG)
    schema.set_defaults(handler=lazy("_keys", "print_keys_schema"))

    export = command(
        actions, "export", "write the keys as a Python module to ship signed", _EXPORT_EPILOG
    )
    export.add_argument("--keys", required=True, metavar="KEYS", help="keys file")
    export.add_argument(
        "--python", required=True, metavar="FILE|-", help="module to write ('-' = stdout)"
    )
    export.add_argument(
        "--force", action="store_true", help="replace FILE if it is an earlier export"
    )
    export.set_defaults(handler=lazy("_export", "export_keys"))


def _add_node_command(commands: argparse._SubParsersAction[Parser]) -> None:
    node = command(commands, "node-id", "print this machine's node id", _NODE_EPILOG)
    node.add_argument(
        "--namespace", required=True, metavar="NAME", help="the product's name, e.g. my-product"
    )
    node.add_argument(
        "--json", action="store_true", help="print a JSON object with the id and its source"
    )
    node.set_defaults(handler=lazy("_node", "node_id"))


def _add_mint_command(commands: argparse._SubParsersAction[Parser]) -> None:
    mint = command(
        commands, "mint", "mint AWS-shaped test checkouts (test issuers only)", _MINT_EPILOG
    )
    mint.add_argument(
        "--new-key", metavar="KEY.pem", help="create a test issuer key (never overwrites)"
    )
    mint.add_argument(
        "--key-size",
        type=int,
        choices=[2048, 3072, 4096],
        default=4096,
        help="RSA bits for --new-key",
    )
    mint.add_argument(
        "--issuer-key", metavar="KEY.pem", help="test issuer private key to sign with"
    )
    mint.add_argument(
        "--fingerprint", metavar="F", help="issuer key fingerprint (its account goes into the ARN)"
    )
    mint.add_argument("--alg", choices=_ALGORITHMS, help="default: PS384 for RSA, by curve for EC")
    mint.add_argument(
        "--kid", help="put this kid in the JWS header (any string, e.g. a KMS key ARN)"
    )
    mint.add_argument(
        "--x5c",
        type=_mint_arg("parse_chain_length"),
        default=0,
        metavar="N",
        help="put an x5c chain of N certificates of the issuer key in the header",
    )
    typ = mint.add_mutually_exclusive_group()
    typ.add_argument("--typ", default="JWT", help="the header's typ (default JWT)")
    typ.add_argument(
        "--no-typ", dest="typ", action="store_const", const=None, help="no typ in the header"
    )
    mint.add_argument("--node-id", metavar="N", help="nodeId to bind the checkout to")
    mint.add_argument(
        "--license-arn", metavar="A", help="default: a random ARN in the fingerprint's account"
    )
    mint.add_argument(
        "--entitlement",
        type=parse_entitlement,
        action="append",
        metavar="E",
        help="Name=NAME,Unit=UNIT[,Value=V]",
    )
    mint.add_argument("--ttl", type=parse_duration, default=3600.0, help="lifetime (default 1h)")
    mint.add_argument(
        "--issued-at",
        type=parse_time,
        metavar="TIME",
        help="default now (past times mint expired tokens)",
    )
    mint.add_argument("--borrow", action="store_true", help="CheckoutBorrowLicense shape")
    mint.add_argument(
        "--metadata",
        type=parse_metadata,
        action="append",
        metavar="NAME=VALUE",
        help="checkoutMetadata",
    )
    mint.add_argument(
        "--metadata-shape",
        choices=["object", "list", "api-list"],
        default="object",
        help="how checkoutMetadata is signed: {NAME: VALUE}, [{name, value}] or [{Name, Value}]",
    )
    mint.add_argument(
        "--claim",
        type=_mint_arg("parse_claim"),
        action="append",
        metavar="NAME=JSON",
        help="add or replace a signed claim with any JSON value (NAME=null removes it)",
    )
    mint.add_argument(
        "--min-length",
        type=_mint_arg("parse_min_length"),
        default=4096,
        metavar="N",
        help="pad the token to N characters (default 4096, the AWS model's minimum; 0: off)",
    )
    mint.add_argument(
        "--out", metavar="FILE", help="write the response here (atomically) instead of stdout"
    )
    mint.set_defaults(handler=lazy("_mint", "mint"))


def _mint_arg(name: str) -> Callable[[str], Any]:
    """A ``cli._mint`` value parser, imported only when ``mint`` is run."""

    def parse(text: str) -> Any:
        from . import _mint

        return getattr(_mint, name)(text)

    parse.__name__ = name  # argparse names the type in its errors
    return parse


def _add_checkout_command(commands: argparse._SubParsersAction[Parser]) -> None:
    checkout = command(
        commands, "checkout", "check out of AWS License Manager and save it", _CHECKOUT_EPILOG
    )
    checkout.add_argument(
        "--sku", dest="product_sku", metavar="S", help="ProductSKU (CheckoutLicense)"
    )
    checkout.add_argument("--fingerprint", metavar="F", help="KeyFingerprint of the issuer")
    checkout.add_argument(
        "--entitlement",
        type=parse_entitlement,
        action="append",
        metavar="E",
        help="Name=NAME,Unit=UNIT[,Value=V]",
    )
    checkout.add_argument(
        "--node-id", metavar="N", help="NodeId to bind the checkout to ('auto': this machine)"
    )
    add_namespace(checkout)
    checkout.add_argument(
        "--checkout-type",
        choices=["PROVISIONAL", "PERPETUAL"],
        default="PROVISIONAL",
        help="default PROVISIONAL",
    )
    checkout.add_argument("--beneficiary", metavar="B", help="Beneficiary (CheckoutLicense)")
    checkout.add_argument(
        "--borrow", action="store_true", help="CheckoutBorrowLicense, for offline use"
    )
    checkout.add_argument("--license-arn", metavar="A", help="LicenseArn (required with --borrow)")
    checkout.add_argument(
        "--metadata",
        type=parse_metadata,
        action="append",
        metavar="NAME=VALUE",
        help="CheckoutMetadata (--borrow)",
    )
    checkout.add_argument(
        "--client-token", metavar="T", help="idempotency token (default: a fresh UUID)"
    )
    checkout.add_argument(
        "--save", required=True, metavar="FILE", help="where to save the response"
    )
    checkout.add_argument("--keys", metavar="KEYS", help="verify with these keys before saving")
    checkout.add_argument(
        "--algorithms", type=parse_algorithms, metavar="ALGS", help="with a bare RSA key in --keys"
    )
    checkout.add_argument(
        "--require",
        type=parse_requirement,
        action="append",
        metavar="REQ",
        help="with --keys: NAME[>=MIN][ UNIT]",
    )
    checkout.add_argument("--policy", metavar="policy.json", help="with --keys: a policy file")
    checkout.add_argument("--region", help="AWS region (default: the AWS configuration)")
    checkout.add_argument("--profile", help="AWS profile")
    checkout.set_defaults(handler=lazy("_checkout", "checkout"), leeway=None)
