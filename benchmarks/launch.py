"""Whole-process wall time of a product's launch check, in fresh Python processes.

    .venv/bin/python benchmarks/launch.py           # full run, markdown tables
    .venv/bin/python benchmarks/launch.py --quick   # smoke run (seconds, noisy numbers)
    .venv/bin/python benchmarks/launch.py --json    # JSON on stdout, tables on stderr
    .venv/bin/python benchmarks/launch.py --keep    # keep (and print) the generated scripts

Three scripts do the same job: start Python, build a trust anchor from an embedded PEM,
read one saved CheckoutBorrowLicense response (scenario A of verify_cost.py: PS384,
RSA-4096, ~4 KB token) and verify it. One uses tokenverify with a full policy, one bare
``cryptography`` + stdlib ``json`` (the signature and nothing else), one PyJWT as in AWS's
sample. ``python -c pass`` is the floor. Runs are interleaved (each round runs every
script once, in rotating order) so that drift hits all of them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _tokens import FINGERPRINT, NODE_ID, build_scenario, describe_machine

TARGET = 1.3
BARE = "bare cryptography + json"
TOKENVERIFY = "tokenverify"
IMPORT_ONLY = "import tokenverify (nothing else)"

_TOKENVERIFY_SCRIPT = '''\
"""Launch check with tokenverify: every check, full policy."""
import sys

import tokenverify as tv

PUBLIC_PEM = """{pem}"""

registry = tv.KeyRegistry()
registry.add({fingerprint!r}, PUBLIC_PEM, algorithms=["PS384"])
policy = tv.Policy(
    key_fingerprint={fingerprint!r},
    node_id={node_id!r},
    license_arn={license_arn!r},
    requirements=[tv.Requirement("Users", unit="Count", minimum=5)],
)
with open(sys.argv[1], "rb") as handle:  # as the bare script reads it
    saved = handle.read()
checkout = tv.Verifier(registry, policy).verify(saved)
print("verified", checkout.license_arn)
'''

_BARE_SCRIPT = '''\
"""Launch check with bare cryptography + stdlib json: the signature and nothing else."""
import base64
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

PUBLIC_PEM = b"""{pem}"""


def b64url(segment):
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


with open(sys.argv[1], "rb") as handle:
    response = json.load(handle)
token = response["SignedToken"]
signing_input, _, signature = token.rpartition(".")
key = serialization.load_pem_public_key(PUBLIC_PEM)
digest = hashes.SHA384()
# Raises InvalidSignature (exit status 1) if the token was altered.
key.verify(
    b64url(signature),
    signing_input.encode("ascii"),
    padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size),
    digest,
)
claims = json.loads(b64url(signing_input.partition(".")[2]))
print("verified", claims["licenseArn"])
'''

_PYJWT_SCRIPT = '''\
"""Launch check as in AWS's sample: PyJWT, signature only."""
import json
import os
import sys

import jwt

PUBLIC_PEM = """{pem}"""

with open(sys.argv[1], "rb") as handle:
    response = json.load(handle)
claims = jwt.decode(response["SignedToken"], PUBLIC_PEM, algorithms=["PS384"])
print("verified", claims["licenseArn"])
'''


@dataclass(frozen=True)
class Settings:
    """How many interleaved rounds (after warm-up runs) and ``-X importtime`` samples."""

    rounds: int
    warmup: int
    importtime_runs: int

    def describe(self) -> str:
        return (
            f"{self.warmup} warm-up run(s) per command (they fill a bytecode cache that every "
            "module, tokenverify's included, is loaded from, as after a pip install), then "
            f"{self.rounds} "
            "interleaved rounds, each running every command once in a fresh process (rotating "
            "order); wall time from spawn to exit, stdout discarded. Median and min over rounds; "
            "x bare = median / median of the bare script (decides PASS/MISS) and min / min."
        )


FULL = Settings(rounds=41, warmup=2, importtime_runs=5)
QUICK = Settings(rounds=3, warmup=1, importtime_runs=1)


@dataclass(frozen=True)
class Command:
    """One timed command line and the environment it runs in."""

    label: str
    argv: list[str]
    env: dict[str, str]


def child_environment(folder: Path) -> dict[str, str]:
    """The environment for every child: bytecode cached for every module, as after a pip
    install.

    Without this a source checkout (editable install) under ``PYTHONDONTWRITEBYTECODE``
    recompiles tokenverify at every launch while cryptography and PyJWT load the .pyc
    files pip wrote: that measures the compiler, not the library. The cache lives in the
    temporary folder, so nothing is written into the source tree.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return env


def write_scripts(folder: Path) -> tuple[list[Command], dict[str, Any]]:
    """The saved checkout and the three launch scripts, in ``folder``."""
    scenario = build_scenario("A")
    checkout = folder / "checkout.json"
    checkout.write_text(json.dumps(scenario.response, indent=2), encoding="utf-8")
    values = {
        "pem": scenario.issuer.public_pem().strip(),
        "fingerprint": FINGERPRINT,
        "node_id": NODE_ID,
        "license_arn": scenario.response["LicenseArn"],
    }
    python = sys.executable
    env = child_environment(folder)
    commands = [Command("python -c pass (floor)", [python, "-c", "pass"], env)]
    for label, name, template in (
        (BARE, "launch_bare.py", _BARE_SCRIPT),
        (TOKENVERIFY, "launch_tokenverify.py", _TOKENVERIFY_SCRIPT),
        ("PyJWT", "launch_pyjwt.py", _PYJWT_SCRIPT),
    ):
        script = folder / name
        script.write_text(template.format(**values), encoding="utf-8")
        commands.append(Command(label, [python, str(script), str(checkout)], env))
    commands.append(Command(IMPORT_ONLY, [python, "-c", "import tokenverify"], env))
    facts = {
        "token_length": len(scenario.token),
        "checkout_bytes": checkout.stat().st_size,
        "license_arn": scenario.response["LicenseArn"],
    }
    return commands, facts


def check_commands(commands: Sequence[Command], license_arn: str) -> None:
    """Each script must really verify the checkout, or its time means nothing."""
    for command in commands:
        done = subprocess.run(
            command.argv, env=command.env, capture_output=True, text=True, check=False
        )
        expected = f"verified {license_arn}" if command.argv[1] != "-c" else ""
        if done.returncode != 0 or done.stdout.strip() != expected:
            raise SystemExit(
                f"{command.label} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}"
            )


def _run_once(command: Command) -> float:
    start = time.perf_counter()
    subprocess.run(command.argv, env=command.env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def measure(commands: Sequence[Command], settings: Settings) -> dict[str, list[float]]:
    for command in commands:
        for _ in range(settings.warmup):
            _run_once(command)
    samples: dict[str, list[float]] = {command.label: [] for command in commands}
    for round_index in range(settings.rounds):
        shift = round_index % len(commands)
        for command in [*commands[shift:], *commands[:shift]]:
            samples[command.label].append(_run_once(command))
    return samples


def summarise(samples: dict[str, list[float]]) -> list[dict[str, Any]]:
    bare_median = statistics.median(samples[BARE])
    bare_min = min(samples[BARE])
    rows = []
    for label, times in samples.items():
        median = statistics.median(times)
        rows.append(
            {
                "label": label,
                "ms_median": median * 1e3,
                "ms_min": min(times) * 1e3,
                "ratio_median": median / bare_median,
                "ratio_min": min(times) / bare_min,
            }
        )
    return rows


_IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")


def import_times(command: Command, runs: int) -> list[dict[str, Any]]:
    """``-X importtime`` entries in completion order, each the min over ``runs`` processes."""
    best: dict[str, dict[str, Any]] = {}
    argv = command.argv
    for _ in range(runs):
        done = subprocess.run(
            [argv[0], "-X", "importtime", *argv[1:]],
            env=command.env,
            capture_output=True,
            text=True,
            check=True,
        )
        for index, line in enumerate(done.stderr.splitlines()):
            match = _IMPORTTIME.match(line)
            if match is None:
                continue
            self_us, cumulative_us, indent, module = match.groups()
            entry = best.setdefault(
                module,
                {
                    "module": module,
                    "depth": (len(indent) - 1) // 2,
                    "order": index,
                    "self_us": int(self_us),
                    "cumulative_us": int(cumulative_us),
                },
            )
            entry["self_us"] = min(entry["self_us"], int(self_us))
            entry["cumulative_us"] = min(entry["cumulative_us"], int(cumulative_us))
    entries = sorted(best.values(), key=lambda entry: entry["order"])
    # importtime prints a module after everything it imports: its parent is the next
    # entry one level up.
    for index, entry in enumerate(entries):
        entry["parent"] = next(
            (e["module"] for e in entries[index + 1 :] if e["depth"] < entry["depth"]), None
        )
    return entries


def after_import(entries: list[dict[str, Any]], package: str) -> list[dict[str, Any]]:
    """Top-level imports that complete after ``package``'s own import: lazy imports."""
    done = next((e["order"] for e in entries if e["module"] == package), None)
    if done is None:
        return []
    return [e for e in entries if e["order"] > done and e["depth"] == 0]


def beyond_bare(entries: list[dict[str, Any]], bare_modules: set[str]) -> dict[str, Any]:
    """Modules the tokenverify script imports that the bare script does not, by own time."""
    extra = [e for e in entries if e["module"] not in bare_modules]
    return {
        "count": len(extra),
        "self_us_total": sum(e["self_us"] for e in extra),
        "top10": sorted(extra, key=lambda e: -e["self_us"])[:10],
    }


def render(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        "## Launch: whole-process wall time"
        + (" (--quick: smoke run, numbers are noise)" if report["quick"] else ""),
        "",
        f"{machine['python']}, cryptography {machine['cryptography']} ({machine['openssl']}), "
        f"{machine['platform']}, {machine['cpus']} CPUs; tokenverify {machine['tokenverify']}.",
        "",
        f"Job: verify one saved CheckoutBorrowLicense response ({report['checkout_bytes']} bytes, "
        f"token {report['token_length']} characters, PS384 / RSA-4096) from a PEM embedded in "
        "the script.",
        "",
        f"Method: {report['method']}",
        "",
        "| command | ms (median) | ms (min) | x bare (median) | x bare (min) |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in report["rows"]:
        lines.append(
            f"| {row['label']} | {row['ms_median']:.1f} | {row['ms_min']:.1f} | "
            f"{row['ratio_median']:.2f}x | {row['ratio_min']:.2f}x |"
        )
    lines += [
        "",
        f"Headline: tokenverify launch = {report['headline_ratio']:.2f}x bare "
        f"(target ≤ {TARGET:.2f}x): **{report['verdict']}**",
        "",
        '### `python -X importtime -c "import tokenverify"`: top 10 by cumulative time',
        "",
        f"Min over {report['importtime_runs']} process(es).",
        "",
        "| module | nesting level | cumulative ms | self ms |",
        "|---|---:|---:|---:|",
    ]
    for entry in report["import_top10"]:
        lines.append(
            f"| {entry['module']} | {entry['depth']} | {entry['cumulative_us'] / 1e3:.2f} | "
            f"{entry['self_us'] / 1e3:.2f} |"
        )
    lazy = report["lazy_imports"]
    lines += [
        "",
        "### Imported by the tokenverify launch script after `import tokenverify` (lazy imports)",
        "",
    ]
    if lazy:
        lines += ["| module | cumulative ms |", "|---|---:|"]
        lines += [f"| {e['module']} | {e['cumulative_us'] / 1e3:.2f} |" for e in lazy]
    else:
        lines.append("None.")
    beyond = report["beyond_bare"]
    lines += [
        "",
        "### Imported by the tokenverify launch script but not by the bare script",
        "",
        f"{beyond['count']} modules, {beyond['self_us_total'] / 1e3:.1f} ms of own (self) import "
        "time in all; the 10 costliest:",
        "",
        "| module | imported by | self ms |",
        "|---|---|---:|",
    ]
    lines += [
        f"| {e['module']} | {e['parent'] or '(the script)'} | {e['self_us'] / 1e3:.2f} |"
        for e in beyond["top10"]
    ]
    heavy = report["heavy_modules_in_launch"]
    lines += [
        "",
        f"Modules imported by the tokenverify launch script: {report['launch_module_count']}; "
        f"of the watch list ({', '.join(_WATCH_LIST)}): {', '.join(heavy) if heavy else 'none'}.",
    ]
    return "\n".join(lines)


#: Modules the launch path cannot afford (pydantic alone is ~110 ms); they should stay absent.
_WATCH_LIST = (
    "pydantic",
    "pydantic_core",
    "jwt",
    "joserfc",
    "boto3",
    "botocore",
    "hypothesis",
    "tokenverify.testing",
    "tokenverify._keyfile",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run; numbers are noisy")
    parser.add_argument(
        "--json", action="store_true", help="JSON results on stdout (tables go to stderr)"
    )
    parser.add_argument("--rounds", type=int, help="override the number of interleaved rounds")
    parser.add_argument("--keep", action="store_true", help="keep the generated scripts")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    if args.rounds:
        settings = Settings(args.rounds, settings.warmup, settings.importtime_runs)

    folder = Path(tempfile.mkdtemp(prefix="tokenverify-launch-"))
    try:
        commands, facts = write_scripts(folder)
        check_commands(commands, facts["license_arn"])
        rows = summarise(measure(commands, settings))
        by_label = {command.label: command for command in commands}
        runs = settings.importtime_runs
        import_entries = import_times(by_label[IMPORT_ONLY], runs)
        launch_entries = import_times(by_label[TOKENVERIFY], runs)
        bare_modules = {entry["module"] for entry in import_times(by_label[BARE], runs)}
    finally:
        if args.keep:
            print(f"scripts kept in {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder)

    headline = next(row for row in rows if row["label"] == TOKENVERIFY)
    launch_modules = {entry["module"] for entry in launch_entries}
    report: dict[str, Any] = {
        "benchmark": "launch",
        "quick": args.quick,
        "method": settings.describe(),
        "machine": describe_machine(),
        "token_length": facts["token_length"],
        "checkout_bytes": facts["checkout_bytes"],
        "rows": rows,
        "target": TARGET,
        "headline_ratio": headline["ratio_median"],
        "verdict": "PASS" if headline["ratio_median"] <= TARGET else "MISS",
        "importtime_runs": settings.importtime_runs,
        "import_top10": sorted(import_entries, key=lambda e: -e["cumulative_us"])[:10],
        "lazy_imports": after_import(launch_entries, "tokenverify"),
        "launch_module_count": len(launch_modules),
        "beyond_bare": beyond_bare(launch_entries, bare_modules),
        "heavy_modules_in_launch": sorted(m for m in _WATCH_LIST if m in launch_modules),
    }
    # With --json, stdout is for machines; the tables still reach the terminal on stderr.
    print(render(report), file=sys.stderr if args.json else sys.stdout)
    if args.json:
        json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
        print()
    # A miss is a finding, not a failure: the run itself succeeded.
    return 0


if __name__ == "__main__":
    sys.exit(main())
