"""Whole-process wall time of a product's launch check, in fresh Python processes.

    .venv/bin/python benchmarks/launch.py           # full run, markdown tables
    .venv/bin/python benchmarks/launch.py --quick   # smoke run (seconds, noisy numbers)
    .venv/bin/python benchmarks/launch.py --json    # JSON on stdout, tables on stderr
    .venv/bin/python benchmarks/launch.py --keep    # keep (and print) the generated scripts

Every script does the same job: start Python, build its trust anchors, read one saved
CheckoutBorrowLicense response (scenario A of verify_cost.py: PS384, RSA-4096, ~4 KB
token) and verify it. tokenverify does every check with a full policy, and gets its keys
three ways: from the module ``tokenverify keys export --python`` writes (what a product
ships), from a keys file (``KeyRegistry.load``), and from a PEM in the script. The
baseline is bare ``cryptography`` + stdlib ``json`` (the signature and nothing else);
PyJWT as in AWS's sample (signature only) and ``python -c pass`` (the floor) are beside
it. Runs are interleaved (each round runs every script once, in rotating order) so that
drift hits all of them alike; each ratio is also taken round by round (a script's time
over the bare script's in the same round), and its median reported.
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

TARGET = 1.2
BARE = "bare cryptography + json"
TRUST_MODULE = "tokenverify, keys from the exported trust module"
KEYS_FILE = "tokenverify, keys from a keys file (KeyRegistry.load)"
PEM_IN_SCRIPT = "tokenverify, PEM in the script"
IMPORT_ONLY = "import tokenverify (nothing else)"
#: The launches the target is for: both ways a product keeps its keys.
HEADLINES = (TRUST_MODULE, KEYS_FILE)

# The three tokenverify scripts differ only in where the registry comes from.
_TOKENVERIFY_SCRIPT = '''\
"""Launch check with tokenverify: every check, full policy; keys {keys_from}."""
import sys

import tokenverify as tv
{registry}
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

_REGISTRY_FROM = {
    TRUST_MODULE: (
        "from the exported trust module",
        "import trust_anchors\n\nregistry = trust_anchors.registry()",
    ),
    KEYS_FILE: ("from a keys file", "registry = tv.KeyRegistry.load(sys.argv[2])"),
    PEM_IN_SCRIPT: (
        "from a PEM in the script",
        'PUBLIC_PEM = """{pem}"""\n\nregistry = tv.KeyRegistry()\n'
        'registry.add({fingerprint!r}, PUBLIC_PEM, algorithms=["PS384"])',
    ),
}

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
            "x bare = median / median and min / min of the bare script; paired = median over "
            "rounds of each run / the bare run of the same round (decides PASS/MISS)."
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
    """The saved checkout, its keys (a keys file and the module exported from it) and the
    launch scripts, in ``folder``."""
    scenario = build_scenario("A")
    checkout = folder / "checkout.json"
    checkout.write_text(json.dumps(scenario.response, indent=2), encoding="utf-8")
    keys_file = folder / "keys.json"
    scenario.registry.save(keys_file)
    python = sys.executable
    env = child_environment(folder)
    # The CLI a vendor runs: the module is exactly what a product ships.
    export = [
        "keys",
        "export",
        "--keys",
        str(keys_file),
        "--python",
        str(folder / "trust_anchors.py"),
    ]
    subprocess.run(
        [python, "-m", "tokenverify", *export],
        env=env,
        check=True,
        capture_output=True,
    )
    values = {
        "pem": scenario.issuer.public_pem().strip(),
        "fingerprint": FINGERPRINT,
        "node_id": NODE_ID,
        "license_arn": scenario.response["LicenseArn"],
    }
    scripts = [(BARE, "launch_bare.py", _BARE_SCRIPT)]
    for label, name in (
        (TRUST_MODULE, "launch_trust_module.py"),
        (KEYS_FILE, "launch_keys_file.py"),
        (PEM_IN_SCRIPT, "launch_pem_in_script.py"),
    ):
        keys_from, registry = _REGISTRY_FROM[label]
        script = _TOKENVERIFY_SCRIPT.replace("{registry}", registry)
        scripts.append((label, name, script.replace("{keys_from}", keys_from)))
    scripts.append(("PyJWT", "launch_pyjwt.py", _PYJWT_SCRIPT))
    commands = [Command("python -c pass (floor)", [python, "-c", "pass"], env)]
    for label, name, template in scripts:
        script_path = folder / name
        script_path.write_text(template.format(**values), encoding="utf-8")
        argv = [python, str(script_path), str(checkout)]
        commands.append(
            Command(label, [*argv, str(keys_file)] if label == KEYS_FILE else argv, env)
        )
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
    """Per command: median and min, their ratios to the bare script's, and the median of
    the ratios taken round by round (each run over the bare run of the same round), which
    drift between rounds cannot move; that one decides PASS/MISS."""
    bare = samples[BARE]
    bare_median = statistics.median(bare)
    bare_min = min(bare)
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
                "ratio_paired": statistics.median(t / b for t, b in zip(times, bare, strict=True)),
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
        f"token {report['token_length']} characters, PS384 / RSA-4096); tokenverify with every "
        "check (key, node, license, entitlement, times, envelope), its keys from the module "
        "'tokenverify keys export --python' writes, from a keys file, or from a PEM in the "
        "script.",
        "",
        f"Method: {report['method']}",
        "",
        "| command | ms (median) | ms (min) | x bare (median) | x bare (min) | x bare (paired) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in report["rows"]:
        lines.append(
            f"| {row['label']} | {row['ms_median']:.1f} | {row['ms_min']:.1f} | "
            f"{row['ratio_median']:.2f}x | {row['ratio_min']:.2f}x | {row['ratio_paired']:.2f}x |"
        )
    lines.append("")
    for headline in report["headlines"]:
        lines.append(
            f"Headline: {headline['label']} = {headline['ratio']:.2f}x bare, paired "
            f"(target ≤ {TARGET:.2f}x): **{headline['verdict']}**"
        )
    lines += [
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
        f"### Imported by the launch script ({TRUST_MODULE}) after `import tokenverify` "
        "(lazy imports)",
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
        f"### Imported by the launch script ({TRUST_MODULE}) but not by the bare script",
        "",
        f"{beyond['count']} modules, {beyond['self_us_total'] / 1e3:.1f} ms of own (self) import "
        "time in all (as -X importtime reports it: inflated by its own bookkeeping); the 10 "
        "costliest:",
        "",
        "| module | imported by | self ms |",
        "|---|---|---:|",
    ]
    lines += [
        f"| {e['module']} | {e['parent'] or '(the script)'} | {e['self_us'] / 1e3:.2f} |"
        for e in beyond["top10"]
    ]
    keys_file = report["keys_file_beyond_trust_module"]
    lines += [
        "",
        f"The keys file script imports {len(keys_file)} modules more than the trust module "
        f"script: {', '.join(keys_file) if keys_file else 'none'}.",
    ]
    heavy = report["heavy_modules_in_launch"]
    counts = ", ".join(
        f"{label}: {count}" for label, count in report["launch_module_count"].items()
    )
    lines += [
        "",
        f"Modules imported by the tokenverify launch scripts: {counts}; of the watch list "
        f"({', '.join(_WATCH_LIST)}, and tokenverify._keyfile but for the keys file script): "
        f"{', '.join(heavy) if heavy else 'none'}.",
    ]
    return "\n".join(lines)


#: Modules the launch path cannot afford (pydantic alone is ~110 ms, msgspec ~11 ms); they
#: should stay absent from every launch script.
_WATCH_LIST = (
    "pydantic",
    "pydantic_core",
    "msgspec",
    "jwt",
    "joserfc",
    "boto3",
    "botocore",
    "hypothesis",
    "tokenverify.testing",
    "tokenverify._claims",
    "tokenverify.formats._keys_file",
    "tokenverify.cli",
)


def watched(label: str, modules: set[str]) -> list[str]:
    """The watch-list modules a launch script imported, as ``label: module``."""
    watch = [*_WATCH_LIST, *(() if label == KEYS_FILE else ("tokenverify._keyfile",))]
    return [f"{label}: {module}" for module in watch if module in modules]


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
        launch_entries = {
            label: import_times(by_label[label], runs)
            for label in (TRUST_MODULE, KEYS_FILE, PEM_IN_SCRIPT)
        }
        bare_modules = {entry["module"] for entry in import_times(by_label[BARE], runs)}
    finally:
        if args.keep:
            print(f"scripts kept in {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder)

    by_row = {row["label"]: row for row in rows}
    headlines = [
        {
            "label": label,
            "ratio": by_row[label]["ratio_paired"],
            "verdict": "PASS" if by_row[label]["ratio_paired"] <= TARGET else "MISS",
        }
        for label in HEADLINES
    ]
    worst = max(headlines, key=lambda headline: headline["ratio"])
    modules = {label: {e["module"] for e in entries} for label, entries in launch_entries.items()}
    report: dict[str, Any] = {
        "benchmark": "launch",
        "quick": args.quick,
        "method": settings.describe(),
        "machine": describe_machine(),
        "token_length": facts["token_length"],
        "checkout_bytes": facts["checkout_bytes"],
        "rows": rows,
        "target": TARGET,
        "headlines": headlines,
        # The worse of the two ways to keep keys.
        "headline_ratio": worst["ratio"],
        "verdict": worst["verdict"],
        "importtime_runs": settings.importtime_runs,
        "import_top10": sorted(import_entries, key=lambda e: -e["cumulative_us"])[:10],
        "lazy_imports": after_import(launch_entries[TRUST_MODULE], "tokenverify"),
        "launch_module_count": {label: len(names) for label, names in modules.items()},
        "beyond_bare": beyond_bare(launch_entries[TRUST_MODULE], bare_modules),
        "keys_file_beyond_trust_module": sorted(modules[KEYS_FILE] - modules[TRUST_MODULE]),
        "heavy_modules_in_launch": [
            entry for label, names in modules.items() for entry in watched(label, names)
        ],
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
