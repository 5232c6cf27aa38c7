"""What every command's parser shares: the values people type, and the flags of a kind.

The value parsers each raise ``argparse.ArgumentTypeError`` with a message that says
what was expected, so argparse reports ``argument --at: ...`` on one line and exits 2.
The helpers below them declare a command (:func:`command`), the trust and policy flags
that ``verify``, ``inspect``, ``checkout`` and ``audit`` share, and a handler imported
only when its command runs (:func:`lazy`).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import NoReturn

from .._policy import Requirement
from .._times import MAX_EPOCH, parse_iso8601
from .._units import UNITS
from ._output import Console, one_line

__all__ = [
    "EntitlementArg",
    "Handler",
    "Parser",
    "add_common",
    "add_namespace",
    "add_policy",
    "add_trust",
    "command",
    "lazy",
    "parse_algorithms",
    "parse_duration",
    "parse_entitlement",
    "parse_leeway",
    "parse_metadata",
    "parse_requirement",
    "parse_time",
]

EntitlementArg = tuple[str, str | None, str]

_EPOCH = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?", re.ASCII)
_DURATION = re.compile(r"([0-9]{1,9}(?:\.[0-9]{1,9})?)([smhd]?)", re.ASCII)
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DECIMAL = re.compile(r"[0-9]{1,40}(?:\.[0-9]{1,40})?", re.ASCII)
_MAX_LEEWAY = 86400
REQUIRE_SYNTAX = "NAME[>=MIN][ UNIT], e.g. 'Users>=5 Count', 'Storage>=1.5 Gigabytes', 'Pro'"


def parse_time(text: str) -> float:
    """``--at``: ISO 8601 as AWS spells it (zone-less = UTC) or epoch seconds."""
    if _EPOCH.fullmatch(text):
        seconds = float(text)
        if seconds >= MAX_EPOCH:
            raise argparse.ArgumentTypeError(f"{text!r} is after the year 9999")
        return seconds
    try:
        return parse_iso8601(text).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is neither YYYY-MM-DDThh:mm:ss[.fff][Z|+hh:mm] nor epoch seconds"
        ) from None


def parse_duration(text: str) -> float:
    """``--ttl``: ``90``, ``90s``, ``30m``, ``1h``, ``2d`` (more than zero seconds)."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a duration such as 90s, 30m, 1h or 2d"
        )
    seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if not 0 < seconds <= 3650 * 86400:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 s and at most 3650 d")
    return seconds


def parse_leeway(text: str) -> float:
    """``--leeway``: seconds of clock skew tolerated, 0 to 86400."""
    if _DECIMAL.fullmatch(text) is None or float(text) > _MAX_LEEWAY:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a number of seconds from 0 to 86400"
        )
    return float(text)


def parse_requirement(text: str) -> Requirement:
    """``--require``: ``NAME[>=MIN][ UNIT]``.

    Without ``>=``, a last word that is an AWS unit is the unit (``'Pro None'``); otherwise
    the whole text is the name, so names with spaces work (``'Premium Support'``).
    """
    name, has_minimum, rest = text.partition(">=")
    name = name.strip()
    minimum: str | None = None
    unit: str | None = None
    if has_minimum:
        words = rest.split()
        if not words or len(words) > 2:
            raise argparse.ArgumentTypeError(f"{text[:60]!r} is not {REQUIRE_SYNTAX}")
        minimum = words[0]
        unit = words[1] if len(words) == 2 else None
        if _DECIMAL.fullmatch(minimum) is None:
            raise argparse.ArgumentTypeError(
                f"minimum {minimum[:40]!r} in {text[:60]!r} is not a decimal such as 5 or 1.5"
            )
    else:
        head, _, last = name.rpartition(" ")
        if head and last in UNITS:
            name, unit = head.strip(), last
    if not name:
        raise argparse.ArgumentTypeError(
            f"{text[:60]!r} names no entitlement; use {REQUIRE_SYNTAX}"
        )
    if unit is not None and unit not in UNITS:
        raise argparse.ArgumentTypeError(_unknown_unit(unit))
    return Requirement(name, unit=unit, minimum=minimum)


def parse_entitlement(text: str) -> EntitlementArg:
    """``--entitlement``: AWS CLI shorthand ``Name=Users,Unit=Count[,Value=10]``."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, equals, value = part.partition("=")
        key = key.strip()
        if not equals or key not in ("Name", "Unit", "Value") or key in fields:
            raise argparse.ArgumentTypeError(
                f"{text[:60]!r} is not Name=NAME,Unit=UNIT[,Value=VALUE] (e.g. "
                "Name=Users,Unit=Count,Value=10)"
            )
        fields[key] = value.strip()
    if not fields.get("Name") or "Unit" not in fields:
        raise argparse.ArgumentTypeError(f"{text[:60]!r} needs both Name= and Unit=")
    if fields["Unit"] not in UNITS:
        raise argparse.ArgumentTypeError(_unknown_unit(fields["Unit"]))
    return fields["Name"], fields.get("Value"), fields["Unit"]


def parse_metadata(text: str) -> tuple[str, str]:
    """``--metadata``: ``NAME=VALUE`` (the value may itself hold ``=`` or ``:``)."""
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise argparse.ArgumentTypeError(
            f"{text[:60]!r} is not NAME=VALUE (e.g. Mac=02:42:ac:11:00:02)"
        )
    return name.strip(), value


def parse_algorithms(text: str) -> list[str]:
    """``--algorithms``: ``PS384`` or ``PS384,PS256``; checked when the key is registered."""
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"{text[:60]!r} is not a comma-separated list such as PS384,PS256"
        )
    return names


def _unknown_unit(unit: str) -> str:
    return f"unknown unit {unit[:40]!r}; AWS units are {', '.join(sorted(UNITS))}"


#: A command's handler: the parsed arguments and the console in, the exit code out.
Handler = Callable[[argparse.Namespace, Console], int]


class Parser(argparse.ArgumentParser):
    """argparse, but errors are one line: ``tokenverify verify: error: ... (see --help)``."""

    def error(self, message: str) -> NoReturn:
        # The message may quote what was typed (or globbed from hostile file names).
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see '{self.prog} --help')\n")


def add_common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``--debug`` and ``--color``, on the main parser (``top``) and on every command."""
    # On the main parser with real defaults; on each command with SUPPRESS (a command's
    # default would overwrite the main parser's value), so that 'tokenverify --debug
    # verify' and 'tokenverify verify --debug' both work.
    suppress = not top
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="show the traceback of an error",
    )
    parser.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        default=argparse.SUPPRESS if suppress else "auto",
        help="colour output (default auto: on a terminal, unless NO_COLOR is set)",
    )


def command(
    commands: argparse._SubParsersAction[Parser], name: str, summary: str, epilog: str
) -> Parser:
    """Add command ``name`` with its one-line summary, its examples and the common flags."""
    command = commands.add_parser(
        name,
        help=summary,
        description=summary[:1].upper() + summary[1:] + ".",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    add_common(command, top=False)
    command.set_defaults(command_parser=command)
    return command


def add_trust(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """``--keys``, ``--fingerprint`` and ``--algorithms``: which issuer keys to trust."""
    parser.add_argument(
        "--keys",
        required=required,
        metavar="KEYS",
        help="keys file (or a bare public key, see below)",
    )
    parser.add_argument(
        "--fingerprint", metavar="F", help="issuer key fingerprint the token must come from"
    )
    parser.add_argument(
        "--algorithms",
        type=parse_algorithms,
        metavar="ALGS",
        help="with a bare RSA key: e.g. PS384 or PS384,PS256",
    )


def add_policy(parser: argparse.ArgumentParser) -> None:
    """The policy flags (``--node-id`` ... ``--leeway``), and ``--policy`` for a file."""
    parser.add_argument(
        "--node-id", metavar="N", help="NodeId the checkout must be bound to ('auto': this machine)"
    )
    add_namespace(parser)
    parser.add_argument("--license-arn", metavar="A", help="license the checkout must come from")
    parser.add_argument("--sku", metavar="S", help="productSKU the token must carry")
    parser.add_argument(
        "--metadata",
        dest="checkout_metadata",
        type=parse_metadata,
        action="append",
        metavar="NAME=VALUE",
        help="checkoutMetadata the token must sign (repeatable), e.g. Mac=02:42:ac:11:00:02",
    )
    parser.add_argument("--typ", metavar="T", help="JWS header typ the token must carry, e.g. JWT")
    parser.add_argument(
        "--require",
        type=parse_requirement,
        action="append",
        metavar="REQ",
        help="entitlement needed: NAME[>=MIN][ UNIT]",
    )
    parser.add_argument(
        "--policy", metavar="policy.json", help="policy file (schema: 'tokenverify schema policy')"
    )
    parser.add_argument(
        "--leeway", type=parse_leeway, metavar="SECONDS", help="clock skew tolerated (default 60)"
    )


def add_namespace(parser: argparse.ArgumentParser) -> None:
    """``--namespace``, which ``--node-id auto`` computes the machine's id under."""
    parser.add_argument(
        "--namespace",
        metavar="NAME",
        help="with --node-id auto: the product's name, as its launch check passes it",
    )


def lazy(module: str, function: str) -> Handler:
    """The handler ``tokenverify.cli.MODULE.FUNCTION``, imported when its command runs."""

    # Import a command's module only when it runs: 'verify' never loads boto3 or pydantic.
    def run(args: argparse.Namespace, console: Console) -> int:
        import importlib

        handler: Handler = getattr(importlib.import_module(f"tokenverify.cli.{module}"), function)
        return handler(args, console)

    return run
