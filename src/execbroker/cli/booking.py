"""Asking for offers and taking one: ``offers``, ``run``, ``accept``, ``reject``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer

from execbroker.cli import brokers
from execbroker.cli.exits import EXIT_CODES_HELP, ExitCode, report, reported, say
from execbroker.cli.options import (
    BrokerOption,
    OneBrokerOption,
    OutputOption,
    RequestArgument,
    TimeoutOption,
    WaitOption,
)
from execbroker.cli.output import Output, console, emit
from execbroker.cli.results import finish, show
from execbroker.cli.views import OfferRow, offer_rows, offers_table
from execbroker.cli.watching import follow
from execbroker.client.asyncio import AsyncClient
from execbroker.client.errors import BrokerError
from execbroker.client.loading import request_document
from execbroker.client.protocol import is_no
from execbroker.client.sync import Client
from execbroker.model.components import OfferSet
from execbroker.model.phases import SessionPhase

_LATEST = datetime.max.replace(tzinfo=UTC)


class Pick(StrEnum):
    FIRST = "first"
    EARLIEST = "earliest"
    LARGEST = "largest"


@dataclass(slots=True)
class Answer:
    """What one broker said: an offer set, or the error that stopped it from answering."""

    broker: str
    offerset: OfferSet | None = None
    error: BrokerError | None = None

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"broker": self.broker}
        if self.offerset is not None:
            doc["result"] = "NO" if is_no(self.offerset) else "YES"
            doc["offerset"] = str(self.offerset.meta.uuid)
            doc["url"] = self.offerset.meta.url
            doc["messages"] = [
                {"kind": m.kind, "level": m.level.value, "message": m.rendered}
                for m in self.offerset.meta.messages
            ]
        if self.error is not None:
            doc["error"] = self.error.message
            doc["problems"] = [str(p) for p in self.error.problems]
        return doc


async def ask_all(urls: list[str], doc: Any, timeout: float) -> list[Answer]:
    """Ask every broker at once; one broker down does not stop the others."""

    async def ask(url: str) -> Answer:
        async with AsyncClient(url, timeout=timeout) as client:
            try:
                return Answer(url, offerset=await client.request_offers(doc))
            except BrokerError as exc:
                return Answer(url, error=exc)

    return list(await asyncio.gather(*(ask(url) for url in urls)))


def gather_offers(answers: list[Answer]) -> tuple[list[OfferRow], ExitCode]:
    """All offers sorted by start, with NO answers and errors told on stderr; the exit code if none."""
    rows: list[OfferRow] = []
    code = ExitCode.ERROR
    for answer in answers:
        if answer.error is not None:
            named = answer.broker in answer.error.message
            report(answer.error, "execbroker" if named else f"execbroker: {answer.broker}")
        elif answer.offerset is not None and is_no(answer.offerset):
            code = ExitCode.NO
            say(f"execbroker: {answer.broker} answered NO")
            for message in answer.offerset.meta.messages:
                say(f"  - {message.level.value}: {message.rendered}")
        elif answer.offerset is not None:
            rows.extend(offer_rows(answer.broker, answer.offerset))
    rows.sort(key=lambda row: row.start or _LATEST)
    return rows, ExitCode.OK if rows else code


def choose(rows: list[OfferRow], pick: Pick) -> OfferRow:
    if pick is Pick.EARLIEST:
        return min(rows, key=lambda r: r.start or _LATEST)
    if pick is Pick.LARGEST:
        return max(
            rows,
            key=lambda r: (
                r.cores or 0,
                r.memory or 0,
                r.storage or 0,
                (r.duration.total_seconds() if r.duration else 0),
            ),
        )
    return rows[0]


def _ask(request: Any, broker: list[str] | None, timeout: float) -> list[Answer]:
    urls = brokers.resolve(broker)
    doc = request_document(request)
    return asyncio.run(ask_all(urls, doc, timeout))


def offers(
    request: RequestArgument,
    broker: BrokerOption = None,
    output: OutputOption = Output.TABLE,
    timeout: TimeoutOption = 30.0,
) -> None:
    """Ask one or more brokers for offers and show them in one table, sorted by start.

    Several --broker options ask those brokers at once. Nothing is booked until you accept an offer
    (execbroker accept OFFER); offers you leave alone expire.
    """
    with reported():
        answers = _ask(request, broker, timeout)
        rows, code = gather_offers(answers)
        if output is Output.TABLE:
            if rows:
                console().print(offers_table(rows))
        else:
            emit({"offers": [r.document() for r in rows], "answers": [a.document() for a in answers]}, output)
    raise typer.Exit(code)


def run(
    request: RequestArgument,
    broker: BrokerOption = None,
    pick: Annotated[Pick, typer.Option(case_sensitive=False, help="Which offer to take.")] = Pick.FIRST,
    output: OutputOption = Output.TABLE,
    timeout: TimeoutOption = 30.0,
    wait_timeout: WaitOption = None,
) -> None:
    """Ask for offers, accept one, and watch the session to its end: the whole round trip in one command.

    --pick first takes the first offer of the first broker that said YES, earliest the one that starts
    first, largest the one with the most cores (then memory, storage, time). The offers not taken are
    rejected, so their capacity is freed at once.
    """
    with reported():
        answers = _ask(request, broker, timeout)
        rows, code = gather_offers(answers)
        if not rows:
            raise typer.Exit(code)
        chosen = choose(rows, pick)
        if output is Output.TABLE:
            console().print(offers_table(rows))
        say(f"execbroker: accepting offer {chosen.uuid} at {chosen.broker}")
        with Client(chosen.broker, timeout=timeout) as client:
            client.accept(chosen.uuid)
            _reject_others(answers, chosen, timeout)
            final = follow(client, chosen.uuid, timeout=wait_timeout, output=output)
        finish(chosen.broker, final, output, printed=output is Output.TABLE)


def _reject_others(answers: list[Answer], chosen: OfferRow, timeout: float) -> None:
    """Free the offers of the other brokers (the chosen broker rejects its own siblings itself)."""
    for answer in answers:
        if answer.broker == chosen.broker or answer.offerset is None:
            continue
        with Client(answer.broker, timeout=timeout) as client:
            for offer in answer.offerset.offers:
                if offer.phase is not SessionPhase.OFFERED:
                    continue
                try:
                    client.reject(str(offer.meta.uuid))
                except BrokerError as exc:
                    say(
                        f"execbroker: could not reject offer {offer.meta.uuid} at {answer.broker}: "
                        f"{exc.message}"
                    )


def accept(
    offer: Annotated[str, typer.Argument(help="The offer's uuid, or its URL (<broker>/sessions/<uuid>).")],
    broker: OneBrokerOption = None,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Then watch the session to its end.")] = False,
    output: OutputOption = Output.TABLE,
    timeout: TimeoutOption = 30.0,
    wait_timeout: WaitOption = None,
) -> None:
    """Accept an offer: it becomes your session, and the broker rejects the other offers of its set."""
    with reported():
        url, uuid = brokers.locate(offer, [broker] if broker else None)
        with Client(url, timeout=timeout) as client:
            session = client.accept(uuid)
            if not watch:
                show(url, session, output)
                return
            if output is Output.TABLE:
                show(url, session, output)
            final = follow(client, uuid, timeout=wait_timeout, output=output)
        finish(url, final, output, printed=output is Output.TABLE)


def reject(
    offer: Annotated[str, typer.Argument(help="The offer's uuid, or its URL.")],
    broker: OneBrokerOption = None,
    output: OutputOption = Output.TABLE,
    timeout: TimeoutOption = 30.0,
) -> None:
    """Reject an offer, freeing what it held."""
    with reported():
        url, uuid = brokers.locate(offer, [broker] if broker else None)
        with Client(url, timeout=timeout) as client:
            show(url, client.reject(uuid), output)


def register(app: typer.Typer) -> None:
    for command in (offers, run, accept, reject):
        app.command(epilog=EXIT_CODES_HELP)(command)
