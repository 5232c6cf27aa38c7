"""Instructions per verify, counted by valgrind's callgrind: repeatable whatever the load.

    .venv/bin/python benchmarks/instructions.py                 # A and B, every path
    .venv/bin/python benchmarks/instructions.py --calls 40 B    # one scenario
    .venv/bin/python benchmarks/instructions.py --annotate B token   # + callgrind_annotate

Wall time on a shared machine moves by tens of percent; an instruction count moves by
well under one. Each count is one process (``PYTHONHASHSEED=0``) that builds the
scenario, warms every path up and then verifies one input ``--calls`` times, minus the
same process verifying none: the difference over ``--calls`` is one verify. The
scenarios are stored once (key, response, instant) under ``--store`` so that every run,
before and after a change, verifies the very same bytes with the very same key.
Instructions are not time (a cache miss costs more than an add), but the ratio to the
bare ``cryptography`` verify counted the same way tracks the wall-time ratio on a quiet
machine, and a change that saves instructions in Python code saves time.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

PATHS = ("bare", "token", "dict", "json")
LABELS = {
    "bare": "bare `cryptography` verify",
    "token": "`Verifier.verify(token)`, every check",
    "dict": "`Verifier.verify(response dict)`",
    "json": "`Verifier.verify(response JSON bytes)`, AWS CLI indent 4",
}
DEFAULT_STORE = Path(tempfile.gettempdir()) / "tokenverify-instructions"
_TOTAL = re.compile(rb"summary:\s*([0-9]+)")


def _stored(store: Path, key: str) -> dict[str, Any]:
    """Scenario ``key`` as stored (made on first use): private PEM, response, instant."""
    path = store / f"{key}.json"
    if not path.exists():
        from _tokens import build_scenario

        scenario = build_scenario(key)
        record = {
            "pem": scenario.issuer.private_pem(),
            "algorithm": scenario.algorithm,
            "fingerprint": scenario.policy.key_fingerprint,
            "node_id": scenario.policy.node_id,
            "response": scenario.response,
            # A fixed instant inside the window, not the clock: the same work every run.
            "now": _issued_epoch(scenario.response) + 60,
        }
        store.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record), encoding="utf-8")
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result


def _issued_epoch(response: dict[str, Any]) -> float:
    from datetime import datetime

    return datetime.fromisoformat(response["IssuedAt"].replace("Z", "+00:00")).timestamp()


def _functions(record: dict[str, Any]) -> dict[str, Callable[[], object]]:
    """One callable per path, each checked for the right answer."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    import tokenverify as tv
    import tokenverify._claims  # the steady state, as verify_cost measures
    from _tokens import REQUIRED, _b64url_decode
    from tokenverify.testing import TestIssuer

    issuer = TestIssuer.from_pem(record["pem"], record["algorithm"], record["fingerprint"])
    response = record["response"]
    token: str = response["SignedToken"]
    policy = tv.Policy(
        key_fingerprint=record["fingerprint"],
        node_id=record["node_id"],
        license_arn=response["LicenseArn"],
        requirements=[REQUIRED],
    )
    verifier = tv.Verifier(issuer.registry(), policy)
    now = float(record["now"])
    digest: hashes.HashAlgorithm = {"PS256": hashes.SHA256, "PS384": hashes.SHA384}[
        record["algorithm"]
    ]()
    public_key = issuer.private_key.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    signing_input, _, signature = token.rpartition(".")
    pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
    functions: dict[str, Callable[[], object]] = {
        "bare": partial(
            public_key.verify, _b64url_decode(signature), signing_input.encode(), pss, digest
        ),
        "token": partial(verifier.verify, token, now),
        "dict": partial(verifier.verify, response, now),
        "json": partial(verifier.verify, json.dumps(response, indent=4).encode(), now),
    }
    for name, function in functions.items():
        answer = function()
        if name != "bare":
            assert isinstance(answer, tv.VerifiedCheckout)
            assert answer.license_arn == response["LicenseArn"]
    return functions


def _stages(record: dict[str, Any]) -> list[tuple[str, Callable[[], object]]]:
    """Each step of ``Verifier.verify`` alone, on the previous step's output (through
    private modules, looked up at run time as ``verify_cost.stage_breakdown`` does)."""
    import importlib

    functions = _functions(record)
    verifier = functions["token"].func.__self__  # type: ignore[attr-defined]
    private = {
        name: importlib.import_module(f"tokenverify.{name}")
        for name in (
            "_claims", "_envelope", "_input", "_policy", "_result", "_signature", "_token",
            "_verifier",
        )
    }  # fmt: skip
    response = record["response"]
    token = response["SignedToken"]
    saved = json.dumps(response, indent=4).encode()
    limit = private["_token"].DEFAULT_MAX_TOKEN_SIZE
    policy, registry, now = verifier.policy, verifier.registry, float(record["now"])
    token_bytes, _ = private["_input"].read_input(token, limit)
    parsed = private["_token"].parse_compact(token_bytes, limit)
    key = private["_signature"].check_signature(parsed, registry, policy.key_fingerprint)
    payload = private["_token"].decode_segment(parsed.payload_segment, "payload")
    claims = private["_claims"].parse_claims(payload)
    return [
        ("bare cryptography verify", functions["bare"]),
        ("Verifier.verify(token), whole", functions["token"]),
        ("Verifier.verify(response dict), whole", functions["dict"]),
        ("Verifier.verify(response JSON bytes), whole", functions["json"]),
        ("read_input (token)", partial(private["_input"].read_input, token, limit)),
        ("parse_compact", partial(private["_token"].parse_compact, token_bytes, limit)),
        (
            "check_signature",
            partial(
                private["_signature"].check_signature, parsed, registry, policy.key_fingerprint
            ),
        ),
        (
            "decode_segment(payload)",
            partial(private["_token"].decode_segment, parsed.payload_segment, "payload"),
        ),
        ("parse_claims (msgspec)", partial(private["_claims"].parse_claims, payload)),
        ("_check_key_binding", partial(private["_verifier"]._check_key_binding, key, claims)),
        ("check_policy", partial(private["_policy"].check_policy, policy, claims, now)),
        ("VerifiedCheckout()", partial(private["_result"].VerifiedCheckout, claims, key, parsed)),
        ("read_input (response dict)", partial(private["_input"].read_input, response, limit)),
        ("read_input (response JSON bytes)", partial(private["_input"].read_input, saved, limit)),
        ("check_envelope", partial(private["_envelope"].check_envelope, response, claims)),
    ]


def run_stages(store: Path, key: str, calls: int) -> None:
    """What callgrind runs for ``--stages``: each stage ``calls`` times, between markers
    (``os.getppid``, which callgrind is told to dump before)."""
    stages = _stages(_stored(store, key))
    for _ in range(3):
        for _, function in stages:
            function()
    marker = os.getppid
    gc.collect()
    gc.disable()  # a collection landing in one stage would count as that stage's work
    marker()
    for _, function in stages:
        for _ in range(calls):
            function()
        marker()


def count_stages(store: Path, key: str, calls: int, out: Path) -> list[tuple[str, float]]:
    """Instructions per call of each stage, from one process under callgrind."""
    for old in out.parent.glob(out.name + "*"):
        old.unlink()
    command = [
        "valgrind", "--tool=callgrind", "--dump-before=os_getppid",
        f"--callgrind-out-file={out}", sys.executable, __file__, "--inside-stages",
        "--store", str(store), key, str(calls),
    ]  # fmt: skip
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, env=environment, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr.decode()[-2000:]}")
    labels = [label for label, _ in _stages(_stored(store, key))]
    # Part 1 is the start and warm-up; part k + 1 is stage k (and one marker call).
    totals = []
    for part in range(2, len(labels) + 2):
        match = _TOTAL.search(Path(f"{out}.{part}").read_bytes())
        assert match is not None
        totals.append(int(match.group(1)) / calls)
    return list(zip(labels, totals, strict=True))


def run_inside(store: Path, key: str, path: str, calls: int) -> None:
    """What callgrind runs: warm every path up, then ``calls`` verifies of ``path``."""
    functions = _functions(_stored(store, key))
    for _ in range(3):
        for function in functions.values():
            function()
    function = functions[path]
    gc.collect()
    gc.disable()  # as verify_cost's batches: collections would land in the counted runs
    for _ in range(calls):
        function()


def count(store: Path, key: str, path: str | None, calls: int, out: Path) -> int:
    """Instructions of one process under callgrind."""
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        "--inside",
        "--store",
        str(store),
        key,
        path or "bare",
        str(calls if path else 0),
    ]
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, env=environment, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr.decode()[-2000:]}")
    match = _TOTAL.search(out.read_bytes())
    if match is None:
        raise SystemExit(f"no summary in {out}")
    return int(match.group(1))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--inside-stages", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stages", action="store_true", help="count each stage of verify")
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--calls", type=int, default=30, help="verifies per counted run")
    parser.add_argument("--annotate", action="store_true", help="print callgrind_annotate")
    parser.add_argument("--keep", type=Path, help="keep the callgrind files in this folder")
    parser.add_argument("scenario", nargs="*", default=["A", "B"])
    args = parser.parse_args(argv)
    if args.inside:
        key, path, calls = args.scenario
        run_inside(args.store, key, path, int(calls))
        return 0
    if args.inside_stages:
        key, calls = args.scenario
        run_stages(args.store, key, int(calls))
        return 0
    paths = [p for p in args.scenario if p in PATHS] or list(PATHS)
    keys = [k for k in args.scenario if k not in PATHS] or ["A", "B"]
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="tv-callgrind-"))
    folder.mkdir(parents=True, exist_ok=True)
    for key in keys:
        _stored(args.store, key)  # made outside valgrind: key generation is slow there
        if args.stages:
            print(f"scenario {key}: instructions per call of each stage ({args.calls} calls)")
            stages = count_stages(args.store, key, args.calls, folder / f"{key}-stages.out")
            bare = stages[0][1]
            for label, stage in stages:
                print(f"  {label:<46} {stage / 1e3:9.1f} k  {stage / bare:6.3f}x bare")
            continue
        none = count(args.store, key, None, 0, folder / f"{key}-none.out")
        per_call: dict[str, float] = {}
        for path in paths:
            out = folder / f"{key}-{path}.out"
            per_call[path] = (count(args.store, key, path, args.calls, out) - none) / args.calls
        print(f"scenario {key}: instructions per call ({args.calls} calls minus none)")
        for path in paths:
            ratio = f"{per_call[path] / per_call['bare']:.3f}x" if "bare" in per_call else ""
            print(f"  {LABELS[path]:<58} {per_call[path] / 1e6:8.4f} M  {ratio}")
        if args.annotate:
            for path in paths:
                if path != "bare":
                    print(
                        subprocess.run(
                            [
                                "callgrind_annotate",
                                "--inclusive=no",
                                str(folder / f"{key}-{path}.out"),
                            ],
                            capture_output=True,
                            text=True,
                            check=False,
                        ).stdout[:6000]
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
