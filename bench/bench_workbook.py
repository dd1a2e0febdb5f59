"""Benchmark of the funder's workbook against a bare openpyxl write-only loop.

    .venv/bin/python bench/bench_workbook.py [--applications N] [--repeat R]

Both contenders write the same eight sheets with the same cells (every column the builder
writes, its live formulas and totals rows), from the same deterministic generators, which
fill every field of the rows as the database service does: the bare loop hands the raw
values to ``ws.append``, without number formats, fonts, escaping, filters, print
settings or chart. Every measurement runs in a fresh interpreter so that one run's peak
memory cannot hide another's: timed runs without tracemalloc (it slows allocation-heavy
code severalfold), taken in turns, then one traced run for the Python heap peak. The
resident-set figure is the growth of ru_maxrss during the build, which includes what
tracemalloc cannot see (zlib buffers, the interpreter's free lists).

Targets: build time (CPU) at most 1.1x the bare loop's, peak memory under 300 MB. The
figures and the ratio to the bare loop of the same run are printed; a missed target is
reported on the last line and never changes the exit status, which is 0 unless the
benchmark crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openpyxl import Workbook  # noqa: E402

from exports import (  # noqa: E402
    SHEET_NAMES,
    ApplicationRow,
    DeMinimisRow,
    LedgerRow,
    PaymentRow,
    TypeSummary,
    VoucherRow,
    WorkbookMeta,
    build_budget_workbook,
)

TIME_TARGET = 1.1
MEMORY_TARGET_MB = 300

TYPES = (
    ("innovation", "Innovation voucher", 400, Decimal("2000000.00"), Decimal("0.75")),
    ("digital", "Digitalisation voucher", 300, Decimal("1500000.00"), Decimal("0.70")),
    ("green", "Green transition voucher", 200, Decimal("1200000.00"), Decimal("0.80")),
    ("ip", "Intellectual property voucher", 100, Decimal("400000.00"), Decimal("0.50")),
)
COUNTRIES = ("AT", "DE", "SI", "IT", "HR", "HU", "CZ", "SK")
REGIONS = ("Styria", "Bavaria", "Carinthia", "Friuli", "Istria", "Vas", "South Moravia")
STATES = ("draft", "submitted", "under_review", "approved", "rejected", "withdrawn")
# Mostly plain names, plus the kinds of text the escaping exists for.
WORDS = ("Alpine", "Danube", "Karst", "Mur", "Drava", "Sava", "Tisza", "Adria", "Pannon")
ODD_TITLES = ("=1+1 pricing study", "+43 hotline redesign", "-20% energy use", "@home kit")


def _meta(n: int) -> WorkbookMeta:
    return WorkbookMeta(
        programme="Interreg Danube Region SME vouchers",
        funder="Managing Authority",
        call="Call 2 (2025)",
        filters=[("Country", "all"), ("Rows", str(n))],
        generated_at=datetime(2025, 6, 1, 12, 0, tzinfo=UTC),
        generated_by="bench",
    )


def _summaries(n_apps: int, n_vouchers: int) -> list[TypeSummary]:
    out = []
    for idx, (code, label, quota, envelope, rate) in enumerate(TYPES):
        share = n_vouchers // len(TYPES) + (1 if idx < n_vouchers % len(TYPES) else 0)
        committed, paid = Decimal(share * 4500), Decimal(share * 2000)
        out.append(
            TypeSummary(
                voucher_type=code,
                label=label,
                quota=quota,
                envelope=envelope,
                funding_rate=rate,
                received=n_apps // len(TYPES) - 10,
                drafts=10,
                awarded_count=share,
                committed=committed,
                paid=paid,
                outstanding=committed - paid,
                remaining_envelope=envelope - committed,
                remaining_quota=quota - share,
            )
        )
    return out


def _name(rng: random.Random) -> str:
    return f"{rng.choice(WORDS)} {rng.choice(WORDS)} GmbH"


def _title(rng: random.Random, i: int) -> str:
    if i % 97 == 0:
        return ODD_TITLES[i % len(ODD_TITLES)]
    return f"{rng.choice(WORDS)} process digitalisation and market study no. {i}"


def vouchers(n: int) -> Iterator[VoucherRow]:
    rng = random.Random(1)
    start = date(2024, 1, 1)
    for i in range(n):
        awarded = Decimal(rng.randrange(100_000, 1_000_000)) / 100
        paid = awarded if i % 3 == 0 else Decimal(0)
        yield VoucherRow(
            reference=f"V-2025-{i:06d}",
            sme=_name(rng),
            registry_number=f"ATU{rng.randrange(10**7, 10**8)}",
            country=rng.choice(COUNTRIES),
            region=rng.choice(REGIONS),
            voucher_type=TYPES[i % len(TYPES)][0],
            provider=None if i % 5 == 0 else _name(rng),
            title=_title(rng, i),
            requested=awarded + 100,
            awarded=awarded,
            released=Decimal("0.00") if i % 7 else Decimal("100.00"),
            paid=paid,
            outstanding=awarded - paid,
            recovery_due=Decimal("0.00") if i % 11 else Decimal("50.00"),
            award_date=start + timedelta(days=i % 500),
            state="paid" if paid else "awarded",
            report_state=None if i % 2 else "accepted",
        )


def applications(n: int) -> Iterator[ApplicationRow]:
    rng = random.Random(2)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for i in range(n):
        submitted = i % 10 != 0
        yield ApplicationRow(
            reference=f"A-2025-{i:06d}",
            sme=_name(rng),
            country=rng.choice(COUNTRIES),
            voucher_type=TYPES[i % len(TYPES)][0],
            title=_title(rng, i),
            state=STATES[i % len(STATES)],
            submitted_at=start + timedelta(minutes=i) if submitted else None,
            weighted_score=Decimal(rng.randrange(0, 10_000)) / 100 if submitted else None,
            review_count=i % 4,
            decision=None if i % 3 else "approved",
        )


def payments(n: int) -> list[PaymentRow]:
    rng = random.Random(3)
    start = date(2025, 2, 1)
    return [
        PaymentRow(
            paid_on=start + timedelta(days=i % 300),
            voucher_reference=f"V-2025-{i:06d}",
            sme=_name(rng),
            amount=Decimal(rng.randrange(100_000, 1_000_000)) / 100,
            payment_reference=f"PAY-{i:07d}",
            invoice_number=f"INV/{2025}/{i:06d}",
            invoice_date=start + timedelta(days=i % 300 - 10),
            description=f"Voucher payment for services delivered under {i}",
            vat=Decimal("0.00"),
            kind="Advance" if i % 4 == 0 else "Payment",
            reversed=i % 50 == 0,
        )
        for i in range(n)
    ]


def de_minimis(n: int) -> Iterator[DeMinimisRow]:
    rng = random.Random(4)
    for i in range(n):
        aid = Decimal(rng.randrange(100_000, 1_000_000)) / 100
        before = Decimal(rng.randrange(0, 5_000_000)) / 100
        yield DeMinimisRow(
            undertaking=_name(rng),
            registry_number=f"ATU{rng.randrange(10**7, 10**8)}",
            award_date=date(2024, 1, 1) + timedelta(days=i % 500),
            aid_amount=aid,
            declared_before=before,
            rolling_total=aid + before,
            country=rng.choice(COUNTRIES),
            vat_number=f"ATU{rng.randrange(10**7, 10**8)}",
            granting_authority="Managing Authority",
            aid_after_close_out=aid,
            regulation="Commission Regulation (EU) 2023/2831 (de minimis)",
            voucher_reference=f"V-2025-{i:06d}",
        )


def ledger(n_vouchers: int) -> Iterator[LedgerRow]:
    """Two entries per voucher, as in a programme under way: its award, then a payment."""
    rng = random.Random(5)
    at = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    for i in range(n_vouchers):
        amount = Decimal(rng.randrange(100_000, 1_000_000)) / 100
        common = {"voucher_reference": f"V-2025-{i:06d}", "sme": _name(rng),
                  "voucher_type": TYPES[i % len(TYPES)][0], "recorded_by": "Bench Manager"}
        yield LedgerRow(booked_on=date(2025, 3, 1) + timedelta(days=i % 300),
                        kind="Commitment", committed=amount, paid=Decimal("0.00"), quota=1,
                        reason="Awarded by the selection committee", reference=f"AW-{i}",
                        recorded_at=at + timedelta(minutes=i), **common)
        yield LedgerRow(booked_on=date(2025, 6, 1) + timedelta(days=i % 200),
                        kind="Payment", committed=Decimal("0.00"), paid=amount, quota=0,
                        reason="Final payment", reference=f"PAY-{i:07d}",
                        recorded_at=at + timedelta(days=90, minutes=i), **common)


def _sizes(n_apps: int) -> tuple[int, int]:
    n_vouchers = max(1, n_apps // 5)
    return n_vouchers, n_vouchers  # vouchers, payments (and one de minimis row per voucher)


def run_build(n_apps: int, path: str) -> None:
    n_vouchers, n_payments = _sizes(n_apps)
    build_budget_workbook(
        path,
        meta=_meta(n_apps),
        summaries=_summaries(n_apps, n_vouchers),
        vouchers=vouchers(n_vouchers),
        applications=applications(n_apps),
        payments=payments(n_payments),
        de_minimis=de_minimis(n_vouchers),
        ledger=ledger(n_vouchers),
    )


def _naive(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None)


def _header(ws, width: int) -> None:
    ws.append([f"h{i}" for i in range(width)])


def _totals(ws, columns: str, last: int, label: str = "Total") -> None:
    """The totals row of live sums the builder writes under a list (its columns A..)."""
    ws.append([label, *(f"=SUM({c}2:{c}{last})" if c != " " else None for c in columns)])


def run_bare(n_apps: int, path: str) -> None:
    """The same cells with nothing but ``ws.append`` of raw values."""
    n_vouchers, n_payments = _sizes(n_apps)
    summaries = _summaries(n_apps, n_vouchers)
    labels = {s.voucher_type: s.label for s in summaries}
    pays = payments(n_payments)
    meta = _meta(n_apps)
    wb = Workbook(write_only=True)
    sheets = {name: wb.create_sheet(name) for name in SHEET_NAMES}

    ws = sheets["Summary"]
    _header(ws, 11)
    for s in summaries:
        ws.append([s.label, s.quota, s.received, s.drafts, s.awarded_count, s.committed,
                   s.paid, s.outstanding, s.remaining_envelope, s.remaining_quota,
                   s.funding_rate])
    _totals(ws, "BCDEFGHIJ", len(summaries) + 1)

    ws = sheets["Vouchers"]
    _header(ws, 18)
    row = 1
    for v in vouchers(n_vouchers):
        row += 1
        ws.append([v.reference, v.sme, v.registry_number, v.country, v.region,
                   labels.get(v.voucher_type, v.voucher_type), v.provider, v.title,
                   v.requested, v.awarded, v.released, f"=J{row}-K{row}", v.paid,
                   v.outstanding, v.recovery_due, v.award_date, v.state, v.report_state])
    _totals(ws, "       IJKLMNO", row)

    ws = sheets["Ledger"]
    _header(ws, 12)
    row = 1
    for e in ledger(n_vouchers):
        row += 1
        ws.append([e.booked_on, e.voucher_reference, e.sme,
                   labels.get(e.voucher_type, e.voucher_type), e.kind, e.committed, e.paid,
                   e.quota, e.reason, e.reference, e.recorded_by, _naive(e.recorded_at)])
    _totals(ws, "    FGH", row)
    ws.append([])
    ws.append(["Per voucher type", None, None, None, None, "Committed", "Paid", "Quota",
               "Summary: committed", "Summary: paid", "Summary: awarded",
               "Agrees with the Summary"])
    for position, s in enumerate(summaries):
        at = row + 4 + position
        ws.append([s.label, None, None, None, None,
                   *(f"=SUMPRODUCT(($D$2:$D${row}=$A{at})*{c}$2:{c}${row})" for c in "FGH"),
                   f"='Summary'!F{position + 2}", f"='Summary'!G{position + 2}",
                   f"='Summary'!E{position + 2}",
                   f'=IF(AND(ROUND(F{at}-I{at},2)=0,ROUND(G{at}-J{at},2)=0,H{at}=K{at}),'
                   '"Yes","No")'])

    ws = sheets["Applications"]
    _header(ws, 10)
    for a in applications(n_apps):
        ws.append([a.reference, a.sme, a.country, labels.get(a.voucher_type, a.voucher_type),
                   a.title, a.state, _naive(a.submitted_at), a.weighted_score,
                   a.review_count, a.decision])

    ws = sheets["Payments"]
    _header(ws, 7)
    for p in pays:
        ws.append([p.paid_on, p.voucher_reference, p.sme, p.kind, p.amount,
                   p.payment_reference, "Yes" if p.reversed else "No"])

    ws = sheets["De minimis"]
    _header(ws, 12)
    row = 1
    for d in de_minimis(n_vouchers):
        row += 1
        ws.append([d.undertaking, d.country, d.vat_number, d.registry_number,
                   d.granting_authority, d.award_date, d.aid_amount, d.aid_after_close_out,
                   d.regulation, d.voucher_reference, d.declared_before, d.rolling_total])
    _totals(ws, "     GH", row)

    ws = sheets["List of expenditure"]
    _header(ws, 13)
    for number, p in enumerate((p for p in pays if not p.reversed), 1):
        ws.append([number, meta.cost_category, p.voucher_reference[:30],
                   (p.invoice_number or "")[:30], p.invoice_date, p.paid_on,
                   p.description[:255], p.amount + p.vat, p.vat, p.amount, meta.currency,
                   Decimal(1), p.amount])

    ws = sheets["About"]
    for label, value in (
        ("Item", "Value"),
        ("Programme", meta.programme),
        ("Funder", meta.funder),
        ("Call", meta.call),
        *((f"Filter: {name}", value) for name, value in meta.filters),
        ("Generated at (UTC)", _naive(meta.generated_at)),
        ("Generated by", meta.generated_by),
    ):
        ws.append([label, value])
    wb.save(path)


def child(mode: str, n_apps: int, trace: bool) -> dict[str, float]:
    fn = run_build if mode == "build" else run_bare
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "book.xlsx")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if trace:
            tracemalloc.start()
        started, cpu_started = time.perf_counter(), time.process_time()
        fn(n_apps, path)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        traced_peak = tracemalloc.get_traced_memory()[1] if trace else 0
        if trace:
            tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        size = os.path.getsize(path)
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "traced_peak_mb": traced_peak / 2**20,
        # Linux reports ru_maxrss in KiB.
        "rss_growth_mb": (rss_after - rss_before) / 1024,
        "rss_peak_mb": rss_after / 1024,
        "file_mb": size / 2**20,
    }


def _measure(mode: str, n_apps: int, trace: bool) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", mode, "--applications", str(n_apps)]
    if trace:
        cmd.append("--trace")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs per contender")
    parser.add_argument("--child", choices=("build", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.applications

    if args.child:
        print(json.dumps(child(args.child, n, args.trace)))
        return 0

    # In turns (bare, build, bare, build, ...), so that a neighbour's burst of load on a
    # shared machine falls on both contenders; each one's best run counts. The ratio is of
    # CPU time, which such a burst disturbs far less than the wall clock (both builds are
    # single-threaded and CPU-bound, so on an idle machine the two are the same).
    timed: dict[str, list[dict[str, float]]] = {"bare": [], "build": []}
    for _ in range(max(1, args.repeat)):
        for mode in timed:
            timed[mode].append(_measure(mode, n, trace=False))
    results: dict[str, dict[str, float]] = {}
    for mode, runs in timed.items():
        traced = _measure(mode, n, trace=True)
        best = min(runs, key=lambda r: r["cpu_seconds"])
        results[mode] = {
            "seconds": min(r["seconds"] for r in runs),
            "cpu_seconds": best["cpu_seconds"],
            "rss_growth_mb": max(r["rss_growth_mb"] for r in runs),
            "rss_peak_mb": max(r["rss_peak_mb"] for r in runs),
            "traced_peak_mb": traced["traced_peak_mb"],
            "file_mb": best["file_mb"],
        }
        r = results[mode]
        print(
            f"{mode:5}  {r['cpu_seconds']:6.2f} s CPU ({r['seconds']:6.2f} s wall)"
            f"  tracemalloc peak {r['traced_peak_mb']:6.1f} MB"
            f"  rss growth {r['rss_growth_mb']:6.1f} MB  rss peak {r['rss_peak_mb']:6.1f} MB"
            f"  file {r['file_mb']:5.1f} MB"
        )

    build, bare = results["build"], results["bare"]
    ratio = build["cpu_seconds"] / bare["cpu_seconds"]
    peak = max(build["traced_peak_mb"], build["rss_growth_mb"])
    missed = []
    if ratio > TIME_TARGET:
        missed.append(f"time {ratio:.2f}x > {TIME_TARGET}x")
    if peak >= MEMORY_TARGET_MB:
        missed.append(f"memory {peak:.0f} MB >= {MEMORY_TARGET_MB} MB")
    print(
        f"workbook: {n} applications  build {build['cpu_seconds']:.2f} s  "
        f"bare {bare['cpu_seconds']:.2f} s (CPU)  ratio {ratio:.2f}x  peak {peak:.0f} MB "
        f"(target <={TIME_TARGET}x, <{MEMORY_TARGET_MB} MB)"
        + (f"  MISSED: {', '.join(missed)}" if missed else "  met")
    )
    # A missed target is a finding to read, not a failure: the other benchmarks still run.
    return 0


if __name__ == "__main__":
    sys.exit(main())
