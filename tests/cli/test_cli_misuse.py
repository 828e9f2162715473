"""Misuses of the ``gridledger`` command line: each ends in ``error:`` + ``hint:`` and exit status 2.

Issue 19 item 11 found 16 of 106 misuses ending in a traceback (and one in exit 1
with no message). Every argument is now read by a typed parser and everything
spanning several arguments is checked before a command starts; this table keeps
that so, for every subcommand. The issue's own examples run as real processes
(the installed module, as a user would); the rest run in-process for speed.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gridledger import cli
from gridledger.errors import InvalidArgumentError
from gridledger.ledger import tx as txmod
from gridledger.ledger.proofs import prove_allocation
from gridledger.ledger.store import ChainStore

BIG = str(2**63)  # one past the largest int64
HUGE = "99999999999999999999"


@dataclasses.dataclass(frozen=True)
class Misuse:
    """A command line (with {tmp}, {chain}, {file}, {dir} placeholders) and a fragment of its error."""

    argv: tuple[str, ...]
    says: str
    process: bool = False  # run as a real subprocess

    @property
    def id(self) -> str:
        return " ".join(self.argv).replace("{", "").replace("}", "")[:70]


def m(line: str, says: str, *, process: bool = False) -> Misuse:
    return Misuse(tuple(line.split()), says, process)


MISUSES = [
    # -- simulate: the issue's examples first (real processes) ------------------------------------
    m("simulate --days nan", "--days", process=True),
    m("simulate --seed -1", "--seed", process=True),
    m("simulate --out {tmp}/missing/x.sqlite", "does not exist", process=True),
    m("simulate --out {tmp}/c.sqlite --market-face {tmp}/missing/mf.parquet", "--market-face", process=True),
    m("simulate --kwp 1e300", "--kwp", process=True),
    m("simulate --members 100000000", "--members", process=True),
    m("simulate --days inf", "--days"),
    m("simulate --days -1", "--days"),
    m("simulate --days 0", "--days"),
    m("simulate --days seven", "--days"),
    m("simulate --days 0.001", "shorter than one"),
    m(f"simulate --seed {BIG}", "--seed"),
    m("simulate --members 0", "--members"),
    m("simulate --members 1.5", "--members"),
    m("simulate --pv-units -1", "--pv-units"),
    m("simulate --kwp 0", "--kwp"),
    m("simulate --kwp -nan", "--kwp"),
    m("simulate --v-wh 0", "--v-wh"),
    m("simulate --period-minutes 7", "invalid choice"),
    m("simulate --period-minutes quarter", "--period-minutes"),
    m("simulate --start notadate", "--start"),
    m("simulate --start 2021-01-01", "bundled (AT) covers 2019-01-01"),
    m("simulate --start 2019-12-30 --days 7", "not the run's 2019-12-30 00:00 to 2020-01-06"),
    m("simulate --members 100000 --start 2019-01-01 --days 365", "meter-periods"),
    m("simulate --out {dir}", "folder"),
    m("simulate --out {file}", "not a gridledger chain"),
    m("simulate --out {tmp}/c.sqlite --market-face {file}", "exists"),
    m("simulate --out {tmp}/c.sqlite --market-face {tmp}/c.sqlite", "both name"),
    m("simulate --algorithm md5", "invalid choice"),
    m("simulate --frobnicate", "unrecognized"),
    m("simulate --members", "expected one argument"),
    # -- verify -------------------------------------------------------------------------------------
    m("verify {tmp}/nope.sqlite", "does not exist"),
    m("verify {dir}", "not a file"),
    m("verify {file}", "not a gridledger chain"),
    m("verify", "required"),
    # -- prove --------------------------------------------------------------------------------------
    m(f"prove {{chain}} --member m001 --period {HUGE}", "--period", process=True),
    m(f"prove {{chain}} --member m001 --period {BIG}", "--period"),
    m("prove {chain} --member m001 --period -5", "--period"),
    m("prove {chain} --member m001 --period noon", "--period"),
    m("prove {chain} --member m001 --period 1969-12-31T00:00", "--period"),
    m("prove {chain} --member m001 --period 5", "period"),
    m("prove {chain} --member m999 --period 2019-06-03T00:30", "m999"),
    m("prove {chain} --member m001", "--period"),
    m("prove {tmp}/nope.sqlite --member m001 --period 0", "does not exist"),
    # -- pos-sim ------------------------------------------------------------------------------------
    m("pos-sim --out {file}", "not a folder", process=True),
    m("pos-sim --out {tmp}/a/b", "does not exist"),
    m("pos-sim --out {full}", "exists"),
    m("pos-sim --seeds 0", "--seeds"),
    m("pos-sim --turns -3", "--turns"),
    m("pos-sim --seeds 1000000 --turns 1000000", "--seeds"),
    m("pos-sim --alpha nan", "--alpha"),
    m("pos-sim --beta -0.1", "--beta"),
    m("pos-sim --plot-seed -1", "--plot-seed"),
    # -- ev-sim -------------------------------------------------------------------------------------
    m("ev-sim --start notadate", "--start", process=True),
    m("ev-sim --start 2019-12-31 --days 2", "bundled (AT) covers"),
    m("study run missing.toml", "does not exist"),
    m("study status {dir}", "holds no study"),
    m("grid report {tmp}/nowhere", "does not exist"),
    m("grid report {dir}", "neither a study's results nor a run folder"),
    m("grid report {file}", "needs the run's injections"),
    m("grid report {dir} --period-minutes 0", "--period-minutes"),
    m("ev-sim --evs 0", "--evs"),
    m("ev-sim --evs 1000000 --days 365", "EV-days"),
    m("ev-sim --households 0", "--households"),
    m("ev-sim --capacity-kw inf", "--capacity-kw"),
    m("ev-sim --round-minutes 7", "invalid choice"),
    m("ev-sim --days 0", "--days"),
    m("ev-sim --horizon 0", "--horizon"),
    m("ev-sim --seed -1", "--seed"),
    m("ev-sim --rivals fastest", "rivals[0]"),
    m("ev-sim --scheduler receding_horizon --rivals greedy", "--rivals"),
    m("ev-sim --scheduler none --rivals greedy", "--rivals"),
    m("ev-sim --rounds {tmp}/missing/r.parquet", "does not exist"),
    m("ev-sim --rounds {file}", "exists"),
    m("ev-sim --plots {file}", "not a folder"),
    # -- demo and data ------------------------------------------------------------------------------
    m("demo --date 2021-05-01", "--date"),
    m("demo --date notadate", "--date"),
    m("demo --index 24", "--index"),
    m("demo --index -1", "--index"),
    m("demo --algorithm md5", "invalid choice"),
    m("data inspect {tmp}/nope.csv", "does not exist"),
    m("data inspect {dir}", "not a file"),
    m("data inspect {file} --plot {tmp}/missing/w.png", "does not exist"),
    m("data inspect {file} --plot {file}", "exists"),
    m("data inspect {file} --week notadate", "--week"),
    m("data", "required"),
    # -- bench --------------------------------------------------------------------------------------
    m("bench --size huge", "--size"),
    m("bench --workloads hash_many,nope", "--workloads"),
    m("bench --threads 0", "--threads"),
    m("bench --json {tmp}/missing/x.json", "does not exist"),
    m("bench compare {file} {tmp}/missing.json", "does not exist"),
    m("bench compare {file} {file}", "not a JSON file"),
    m("bench compare {file} {file} --max-regression nan", "--max-regression"),
    # -- the command itself -------------------------------------------------------------------------
    m("frobnicate", "invalid choice"),
    m("", "required"),
]


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The files the table refers to: a small chain, a plain file, a folder, a full output folder."""
    tmp = tmp_path_factory.mktemp("misuse")
    chain = tmp / "chain.sqlite"
    args = ["simulate", "--members", "3", "--pv-units", "1", "--days", "0.25", "--quiet"]
    assert cli.main([*args, "--out", str(chain)]) == 0
    (tmp / "notes.txt").write_text("keep me")
    (tmp / "folder").mkdir()
    full = tmp / "full"
    full.mkdir()
    (full / "bidding_runs.parquet").write_text("an earlier run")
    files = {"file": tmp / "notes.txt", "dir": tmp / "folder", "full": full}
    return {"tmp": str(tmp), "chain": str(chain), **{k: str(v) for k, v in files.items()}}


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_table_covers_every_command_and_the_issue() -> None:
    assert len(MISUSES) >= 40
    words = {x.argv[0] for x in MISUSES if x.argv}
    assert set(cli.COMMANDS) <= words
    assert sum(x.process for x in MISUSES) >= 9


@pytest.mark.parametrize("misuse", MISUSES, ids=lambda x: x.id)
def test_misuse_is_an_error_with_a_hint(
    misuse: Misuse, places: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [a.format(**places) for a in misuse.argv]
    before = _snapshot(Path(places["tmp"]))
    t0 = time.perf_counter()
    if misuse.process:
        env = {**os.environ, "NO_COLOR": "1"}
        done = subprocess.run(
            [sys.executable, "-m", "gridledger.cli", *argv],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            cwd=places["tmp"],
            timeout=120,
        )
        code, out, err = done.returncode, done.stdout, done.stderr
    else:
        code = cli.main(argv)
        out, err = capsys.readouterr()
    assert "Traceback" not in err + out
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: "), err
    assert misuse.says in lines[0], err
    assert len(lines[1]) > len("hint: ") + 10 and "--help for the accepted values" not in lines[1]
    assert out == ""  # nothing ran: no data on stdout
    # Refused before any work: nothing written or replaced, and well before a run could finish.
    assert _snapshot(Path(places["tmp"])) == before
    assert time.perf_counter() - t0 < 60


def test_verify_says_in_one_line_what_is_wrong(
    places: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "damaged.sqlite"
    raw = bytearray(Path(places["chain"]).read_bytes())
    # Damage a page holding transactions: SQLite's integrity check then reports many lines.
    page = 4096
    for off in range(len(raw) // 2, len(raw) // 2 + 3 * page, 7):
        raw[off] ^= 0x5A
    bad.write_bytes(bytes(raw))
    code = cli.main(["verify", str(bad)])
    out, err = capsys.readouterr()
    assert code in (1, 2) and "Traceback" not in out + err
    text = out if code == 1 else err
    assert text.count("\n") == (1 if code == 1 else 2), text
    if code == 1:
        assert out.startswith("chain INVALID")
        detailed = cli.main(["verify", str(bad), "--details"])
        assert detailed == 1
        assert capsys.readouterr().out.startswith("chain INVALID")


def test_verify_summary_is_one_line() -> None:
    from gridledger.cli.verify import _one_line

    report = (
        "chain INVALID at the database: StoreMismatch: SQLite integrity_check: *** in database main ***\n"
        "Page 5: btreeInitPage() returns error code 11\nPage 6: never used\nPage 7: never used"
    )
    line = _one_line(report)
    assert "\n" not in line and "Page 5" in line and "2 more lines" in line and "--details" in line


def _allocates(store: ChainStore, member: str, period: int) -> bool:
    try:
        prove_allocation(store, member, period)
    except InvalidArgumentError:
        return False
    return True


def test_prove_on_a_tampered_store_is_an_error_not_a_traceback(
    places: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 19 item 9: a stored Transfer with no signer made ``ledger.decode`` raise IndexError."""
    path = tmp_path / "tampered.sqlite"
    path.write_bytes(Path(places["chain"]).read_bytes())
    with ChainStore(path) as s:
        first, height = s.genesis.first_period, s.height
        period = next(p for p in range(first, first + height) if _allocates(s, "m001", p))
        height = s.height_of_period(period)
        tag = s.chain.chain_tag
    assert cli.main(["prove", str(path), "--member", "m001", "--period", str(period)]) == 0
    capsys.readouterr()
    unsigned = txmod.Transfer(tag, period, (), (txmod.Outpoint(bytes(32), 0),), ())
    with sqlite3.connect(path) as db:
        first = db.execute("SELECT first_tx FROM blocks WHERE height = ?", (height,)).fetchone()[0]
        db.execute("UPDATE txs SET data = ? WHERE seq = ?", (unsigned.body(), first))
    db.close()
    code = cli.main(["prove", str(path), "--member", "m001", "--period", str(period)])
    out, err = capsys.readouterr()
    # The signer-less Transfer decodes (the chain's rules are what refuse it), so
    # prove answers: the tampered transaction no longer hashes to the published root.
    assert code == 1 and "Traceback" not in err
    assert "verifies      False" in out


def test_overwrite_lets_outputs_be_replaced(places: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "pos"
    args = ["pos-sim", "--seeds", "3", "--turns", "20", "--out", str(out)]
    assert cli.main(args) == 0
    before = (out / "bidding_runs.parquet").read_bytes()
    assert cli.main(args) == 2  # the files exist now
    assert cli.main([*args, "--overwrite"]) == 0
    assert (out / "bidding_runs.parquet").read_bytes() == before  # same seeds, same runs


def test_an_unexpected_exception_is_a_bug_and_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_: object) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setitem(cli.COMMANDS, "demo", dataclasses.replace(cli.COMMANDS["demo"], run=broken))
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["demo"])
