"""Coverage-guided fuzzing of tokenverify's verify path (atheris), with a plain-Python fallback.

Every input is one byte choosing a mode, then the mode's data:

0. raw: the bytes (and their text) handed to ``Verifier.check`` and ``verify_compact``;
1. signed header: the data is a JWS header, signed with a trusted test key, so that the
   header parser is reached behind a genuine signature;
2. signed payload: the data is the payload, signed, so the claims decoder, the times,
   units and policy are reached;
3. edited token: the data edits a genuine token (replace, insert or delete bytes);
4. response: the data is JSON merged into a genuine response, or spliced in as text, so
   the envelope cross-check sees hostile plaintext;
5. claim: the data replaces one claim of a genuine payload with a JSON value, signed.

Invariants (a violation raises, which atheris reports as a crash): nothing but
``TokenRejected`` escapes ``check``/``verify``/``verify_compact``; ``check`` agrees with
``verify``; an accepted edited token is the genuine one up to surrounding whitespace and
canonical '=' padding; an accepted signed header is one strict JSON object naming the
key's algorithm and no refused member; accepted plaintext equals the signed values.

Run (see fuzz/README.md)::

    python fuzz/fuzz_verify.py -runs=100000 fuzz/corpus       # atheris / libFuzzer
    python fuzz/fuzz_verify.py --fallback --runs 100000        # no atheris: plain Python
    python fuzz/fuzz_verify.py --make-corpus fuzz/corpus       # write the seed inputs

The keys below are fixed test keys (TEST ONLY - never trust): anyone can read them here.
"""

from __future__ import annotations

import base64
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    import atheris  # type: ignore[import-untyped]  # no stubs published
except ImportError:  # the fallback driver needs nothing beyond the project
    atheris = None

if atheris is not None:
    with atheris.instrument_imports(include=["tokenverify"]):
        import tokenverify as tv
        from tokenverify.testing import TestIssuer
else:
    import tokenverify as tv
    from tokenverify.testing import TestIssuer

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

FINGERPRINT = "aws:111122223333:Fuzz:issuer-fingerprint"
ISSUED_AT = 1_768_478_400
NOW = ISSUED_AT + 60
NODE_ID = "node-7"
REFUSED_MEMBERS = ("crit", "b64", "zip", "enc", "cty")
MAX_KID_LENGTH = 256
SIGNED_PLAINTEXT = {
    "LicenseArn": "licenseArn",
    "LicenseConsumptionToken": "licenseConsumptionToken",
    "NodeId": "nodeId",
}
MODES = 6
# Fixed private keys so that a crash found today reproduces tomorrow: TEST ONLY.
_EDDSA = TestIssuer(
    ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32))), "EdDSA", FINGERPRINT
)
_ES256 = TestIssuer(ec.derive_private_key(0x1F2E3D4C5B6A7988, ec.SECP256R1()), "ES256", FINGERPRINT)
ISSUERS = (_EDDSA, _ES256)
POLICY = tv.Policy(node_id=NODE_ID, requirements=[tv.Requirement("Users", unit="Count", minimum=5)])
VERIFIERS = tuple(tv.Verifier(issuer.registry(), POLICY) for issuer in ISSUERS)
RESPONSES = tuple(
    issuer.checkout(
        node_id=NODE_ID,
        issued_at=ISSUED_AT,
        license_arn="arn:aws:license-manager::111122223333:license:l-0123456789abcdef",
        license_consumption_token="0cd7b2bc7c674573a669bea8f5b75f2d",  # noqa: S106
        entitlements=[("Users", "10", "Count"), ("Storage", "1.5", "Terabytes")],
        checkout_metadata={"Mac": "ABCDEFGHI"},
        # Unpadded: mutations belong in the claims, not in a run of padding.
        min_token_length=0,
    )
    for issuer in ISSUERS
)


#: Decisions so far, by reason ("ok" for accepted): printed by the fallback driver.
OUTCOMES: Counter[str] = Counter()


class Violation(AssertionError):
    """An invariant of tokenverify broke: what atheris (or the fallback) reports."""


class Data:
    """Consumes fuzz bytes; the same code runs under atheris and the fallback."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def byte(self) -> int:
        if self.offset >= len(self.data):
            return 0
        self.offset += 1
        return self.data[self.offset - 1]

    def take(self, count: int) -> bytes:
        chunk = self.data[self.offset : self.offset + count]
        self.offset += len(chunk)
        return chunk

    def rest(self) -> bytes:
        return self.take(len(self.data))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _b64decode_text(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signed_token(issuer: TestIssuer, header: bytes, payload: bytes) -> str:
    signing_input = f"{b64(header)}.{b64(payload)}"
    return f"{signing_input}.{b64(issuer.sign_bytes(signing_input.encode('ascii')))}"


def decide(verifier: tv.Verifier, source: object) -> tv.VerifiedCheckout | None:
    """The checkout, or None if refused; ``check`` and ``verify`` must agree."""
    verdict = verifier.check(source, now=NOW)
    try:
        checkout = verifier.verify(source, now=NOW)
    except tv.TokenRejected as rejection:
        if verdict.ok or (verdict.reason, verdict.message) != (
            rejection.reason,
            rejection.description,
        ):
            raise Violation(f"check {verdict} disagrees with verify {rejection}") from None
        OUTCOMES[rejection.reason.value] += 1
        return None
    if not verdict.ok:
        raise Violation(f"check refused ({verdict.reason}) what verify accepted")
    OUTCOMES["ok"] += 1
    return checkout


def compact(registry: tv.KeyRegistry, token: str | bytes) -> bool:
    try:
        tv.verify_compact(token, registry)
    except tv.TokenRejected:
        return False
    return True


def strict_object(data: bytes) -> dict[str, Any] | None:
    """The oracle's own strict JSON reading: an object, UTF-8, no duplicates, no NaN."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({name for name, _ in pairs}) != len(pairs):
            raise ValueError("duplicate")
        return dict(pairs)

    def no_constants(name: str) -> Any:
        raise ValueError(name)

    try:
        value = json.loads(
            data.decode("utf-8"), object_pairs_hook=no_duplicates, parse_constant=no_constants
        )
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


# --- the modes -------------------------------------------------------------------------


def mode_raw(index: int, data: bytes) -> None:
    verifier, registry = VERIFIERS[index], ISSUERS[index].registry()
    genuine = RESPONSES[index]["SignedToken"].encode("ascii")
    for source in (data, data.decode("utf-8", "replace")):
        checkout = decide(verifier, source)
        if checkout is not None:
            # Nothing here is signed: only the genuine token can be inside what verifies.
            _expect_genuine(index, checkout)
            if not data.lstrip().startswith(b"{") and not _signs_genuine(data, genuine):
                raise Violation(f"accepted a token that is not the genuine one: {data[:120]!r}")
    if compact(registry, data) and not _signs_genuine(data, genuine, strip=False):
        raise Violation(f"verify_compact accepted {data[:120]!r}")


def _signs_genuine(token: bytes, genuine: bytes, *, strip: bool = True) -> bool:
    # Signing inputs, not whole tokens: a seed written by another run carries another
    # (equally valid) randomized ECDSA signature of the same genuine header and payload.
    return _normalized(token, strip=strip).rpartition(b".")[0] == genuine.rpartition(b".")[0]


def _expect_genuine(index: int, checkout: tv.VerifiedCheckout) -> None:
    if checkout.claims != json.loads(_payload(index)):
        raise Violation(f"accepted claims that were never signed: {checkout.claims}")


def _expect_in_window(checkout: tv.VerifiedCheckout) -> None:
    issued, expires = checkout.issued_at.timestamp(), checkout.expiration.timestamp()
    if not issued - POLICY.leeway <= NOW <= expires + POLICY.leeway or issued > expires:
        raise Violation(f"accepted a checkout outside its window: {issued} to {expires}")
    if checkout.node_id != NODE_ID:
        raise Violation(f"accepted node {checkout.node_id!r}")


def mode_signed_header(index: int, data: bytes) -> None:
    issuer = ISSUERS[index]
    payload = _payload(index)
    checkout = decide(VERIFIERS[index], signed_token(issuer, data, payload))
    if checkout is None:
        return
    header = strict_object(data)
    if header is None or header.get("alg") != issuer.algorithm:
        raise Violation(f"accepted header {data[:120]!r}")
    if any(member in header for member in REFUSED_MEMBERS):
        raise Violation(f"accepted a refused member in {data[:120]!r}")
    # typ is informational (any string); a kid is a hint (any string of 1-256 characters:
    # the one trusted key is tried whatever it names).
    if not isinstance(header.get("typ", "JWT"), str):
        raise Violation(f"accepted typ {header['typ']!r}")
    kid = header.get("kid", FINGERPRINT)
    if not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_LENGTH:
        raise Violation(f"accepted kid {kid!r}")
    if checkout.key_fingerprint != FINGERPRINT:
        raise Violation(f"accepted a key of {checkout.key_fingerprint!r}")
    _expect_genuine(index, checkout)


def mode_signed_payload(index: int, data: bytes) -> None:
    issuer = ISSUERS[index]
    header = json.dumps({"alg": issuer.algorithm, "typ": "JWT"}).encode()
    checkout = decide(VERIFIERS[index], signed_token(issuer, header, data))
    if checkout is not None:
        _expect_in_window(checkout)


def mode_edited_token(index: int, fuzz: Data) -> None:
    genuine = RESPONSES[index]["SignedToken"].encode("ascii")
    token = bytearray(genuine)
    for _ in range(1 + fuzz.byte() % 4):
        if not token:
            break
        position = (fuzz.byte() << 8 | fuzz.byte()) % (len(token) + 1)
        operation, value = fuzz.byte() % 3, fuzz.byte()
        if operation == 0 and position < len(token):
            token[position] = value
        elif operation == 1:
            token.insert(position, value)
        elif position < len(token):
            del token[position]
    edited = bytes(token)
    accepted = decide(VERIFIERS[index], edited) is not None
    if accepted and _normalized(edited) != genuine:
        raise Violation(f"accepted an edited token: {edited!r}")
    if compact(ISSUERS[index].registry(), edited) and _normalized(edited, strip=False) != genuine:
        raise Violation(f"verify_compact accepted an edited token: {edited!r}")


def _normalized(token: bytes, *, strip: bool = True) -> bytes:
    """The token without surrounding whitespace and canonical '=' padding (both allowed)."""
    if strip:
        token = token.strip(b" \t\r\n")
    segments = token.split(b".")
    unpadded = []
    for segment in segments:
        bare = segment.rstrip(b"=")
        canonical = len(segment) % 4 == 0 and len(segment) - len(bare) == -len(bare) % 4
        unpadded.append(bare if canonical else segment)
    return b".".join(unpadded)


def mode_response(index: int, data: bytes) -> None:
    response = dict(RESPONSES[index])
    text = json.dumps(response)
    spliced = text[:-1] + "," + data.decode("utf-8", "replace") + "}"
    decide(VERIFIERS[index], spliced)
    try:
        extra = json.loads(data)
    except (ValueError, RecursionError):
        return
    if not isinstance(extra, dict):
        return
    merged = {**response, **extra}
    checkout = decide(VERIFIERS[index], merged)
    if checkout is None:
        return
    _expect_genuine(index, checkout)
    signed = checkout.claims
    for plain, claim in SIGNED_PLAINTEXT.items():
        if merged.get(plain) is not None and merged[plain] != signed.get(claim):
            raise Violation(f"accepted plaintext {plain}={merged[plain]!r}")


def mode_claim(index: int, fuzz: Data) -> None:
    issuer = ISSUERS[index]
    claims = json.loads(_payload(index))
    names = sorted(claims)
    name = names[fuzz.byte() % len(names)]
    try:
        claims[name] = json.loads(fuzz.rest())
    except (ValueError, RecursionError):
        return
    header = json.dumps({"alg": issuer.algorithm}).encode()
    try:
        payload = json.dumps(claims).encode()
    except (ValueError, RecursionError):
        return
    checkout = decide(VERIFIERS[index], signed_token(issuer, header, payload))
    if checkout is not None:
        _expect_in_window(checkout)


def _payload(index: int) -> bytes:
    return _b64decode_text(RESPONSES[index]["SignedToken"].split(".")[1])


def test_one_input(data: bytes) -> None:
    """One fuzz input: its first byte picks the mode and the issuer."""
    fuzz = Data(data)
    selector = fuzz.byte()
    mode, index = selector % MODES, (selector // MODES) % len(ISSUERS)
    if mode == 3:
        mode_edited_token(index, fuzz)
    elif mode == 5:
        mode_claim(index, fuzz)
    else:
        _BYTE_MODES[mode](index, fuzz.rest())


_BYTE_MODES: dict[int, Callable[[int, bytes], None]] = {
    0: mode_raw,
    1: mode_signed_header,
    2: mode_signed_payload,
    4: mode_response,
}


# --- seeds and the drivers -------------------------------------------------------------


def seeds() -> list[bytes]:
    """Starting inputs for every mode and issuer (libFuzzer's corpus, the fallback's pool)."""
    found: list[bytes] = []
    for index, response in enumerate(RESPONSES):
        token = response["SignedToken"].encode("ascii")
        header = token.split(b".")[0]

        def mode(number: int, index: int = index) -> bytes:
            return bytes([number + MODES * index])

        found += [
            mode(0) + token,
            mode(0) + json.dumps(response).encode(),
            mode(1) + _b64decode_text(header.decode()),
            mode(1) + b'{"alg":"EdDSA","typ":"JWT","kid":"' + FINGERPRINT.encode() + b'"}',
            mode(2) + _payload(index),
            mode(3) + bytes([3, 0, 10, 1, 46, 1, 200, 2, 0, 0, 0]),
            mode(4) + b'"NodeId": "node-8"',
            mode(4) + b'{"EntitlementsAllowed": [{"Name": "Users", "Value": "99"}]}',
            mode(5) + b"\x03" + b'"2026-01-15T12:00:00+01:00"',
            mode(5) + b"\x01" + b'[{"name": "Users", "value": "10", "unit": "Count"}]',
        ]
    return found


_INTERESTING = [
    b'"',
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b".",
    b"=",
    b"==",
    b"-",
    b"_",
    b"+",
    b"/",
    b" ",
    b"\n",
    b"\x00",
    b"\xff",
    b"\xef\xbb\xbf",
    b"\\ud800",
    b"NaN",
    b"1e400",
    b"-0",
    b"null",
    b"true",
    b'"alg"',
    b'"none"',
    b'"crit":[]',
    b'"b64":false',
    b'"typ":"JWE"',
    b'"kid":7',
    b"9999-12-31T23:59:59Z",
    b"24:00:00",
    b"[" * 64,
]


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    """A few random byte-level edits, insertions of interesting bytes, or a splice."""
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        choice = rng.randrange(6)
        position = rng.randint(1, max(1, len(buffer)))  # byte 0 keeps the mode
        if choice == 0 and len(buffer) > 1:
            index = rng.randrange(1, len(buffer))
            buffer[index] ^= 1 << rng.randrange(8)
        elif choice == 1:
            buffer[position:position] = bytes([rng.randrange(256)])
        elif choice == 2 and len(buffer) > 1:
            end = min(len(buffer), position + rng.randint(1, 8))
            del buffer[position:end]
        elif choice == 3:
            buffer[position:position] = rng.choice(_INTERESTING)
        elif choice == 4 and len(buffer) > 2:
            start = rng.randrange(1, len(buffer))
            chunk = buffer[start : start + rng.randint(1, 32)]
            buffer[position:position] = chunk
        else:
            other = rng.choice(pool)
            cut = rng.randint(1, max(1, len(other)))
            buffer = buffer[:position] + other[cut:]
    if rng.random() < 0.05:
        buffer[0] = rng.randrange(256)  # occasionally switch mode or issuer
    return bytes(buffer)


def run_fallback(runs: int, seed: int) -> int:
    """Mutation fuzzing without coverage feedback; returns the number of executions."""
    rng = random.Random(seed)  # noqa: S311 - reproducible fuzzing, not a secret
    pool = seeds()
    executions = 0
    started = time.monotonic()
    for data in pool:
        test_one_input(data)
        executions += 1
    while executions < runs:
        test_one_input(mutate(rng, rng.choice(pool), pool))
        executions += 1
    elapsed = time.monotonic() - started
    print(f"fallback: Done {executions} runs in {elapsed:.1f} s (seed {seed})", file=sys.stderr)
    decisions = ", ".join(f"{reason} {count}" for reason, count in OUTCOMES.most_common())
    print(f"fallback: decisions: {decisions}", file=sys.stderr)
    return executions


def make_corpus(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for number, data in enumerate(seeds()):
        (folder / f"seed-{number:03d}").write_bytes(data)


def main(argv: list[str]) -> int:
    if "--make-corpus" in argv:
        make_corpus(Path(argv[argv.index("--make-corpus") + 1]))
        return 0
    if "--fallback" in argv or atheris is None:
        runs = int(argv[argv.index("--runs") + 1]) if "--runs" in argv else 10_000
        seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 1
        run_fallback(runs, seed)
        return 0
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
