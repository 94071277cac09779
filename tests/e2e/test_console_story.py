"""The issue's story, end to end, through the real `jamie chat` subprocess and a restart."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_p0_story_survives_a_restart(start_jamie, jamie_env) -> None:
    jamie = start_jamie()
    jamie.expect("Jamie no console")

    jamie.send("open P0 Complete failure of the Mac Studio dept=icu,er impact=yes")
    opened = jamie.expect("Next step: `ack INC-0001`.")
    assert "INC-0001 opened as P0" in opened
    deadline = r"(?:\d{4}-\d\d-\d\d )?\d\d:\d\d"
    assert re.search(
        rf"respond by {deadline}, mitigate by {deadline}, resolve by {deadline}", opened
    )

    jamie.send("ask what must happen in the first two minutes of a P0?")
    answer = jamie.expect("From the runbook")
    answer += jamie.expect("\n\n")
    cited = re.findall(r"\[([\w.-]+\.md)#[\w-]+\]", answer)
    assert cited, answer
    assert {"p0-response-protocol.md", "guia-rapido-p0.md"} & set(cited), cited
    assert "2 minutes" in answer or "2 minutos" in answer

    jamie.send("ack INC-0001")
    assert "INC-0001 acknowledged by ana.sre" in jamie.expect("target 2m).")

    jamie.send("abrir P1 Respostas da IA acima de 5 segundos")
    jamie.expect("INC-0002 aberto como P1")
    jamie.send("escalate INC-0002 P0 all four departments affected")
    assert "escalated from P1 to P0" in jamie.expect("New deadlines run from now.")

    jamie.send("update INC-0001 GCP fallback active; clinicians back on the assistant")
    jamie.expect("Update recorded on INC-0001")

    # The next scheduled update carries the team's last update (interval 3s in this test).
    status = jamie.expect("Última atualização (", timeout=20)
    status += jamie.expect("Horários em America/Sao_Paulo.")
    block = status[status.rindex("📢") :]
    assert "Atualização de status" in block and "INC-0001" in block
    assert "Resposta: cumprido" in block and "Resolução: faltam" in block
    assert "GCP fallback active" in block and "Próxima atualização" in block

    jamie.send("resolve INC-0001 Power supply failure on the Mac Studio; unit replaced")
    assert "INC-0001 resolved after" in jamie.expect("unit replaced")
    assert jamie.close() == 0

    again = start_jamie()
    again.expect("1 incidente(s) ativo(s)")
    again.send("status INC-0001")
    summary = again.expect("Causa raiz: Power supply failure on the Mac Studio; unit replaced")
    assert "Estado: resolvido" in summary
    assert "Departamentos: UTI, Pronto-socorro" in summary
    again.send("timeline INC-0001")
    timeline = again.expect("unit replaced — ana.sre (console)")
    for fragment in (
        "declared P0: Complete failure of the Mac Studio",
        "acknowledged — ana.sre (console)",
        "update: GCP fallback active",
        "resolved; root cause: Power supply failure",
    ):
        assert fragment in timeline
    again.send("historico INC-0002")
    assert "escalado de P1 para P0: all four departments affected" in again.expect(
        "all four departments affected"
    )
    assert again.close() == 0

    database = Path(jamie_env["JAMIE_HOME"]) / "jamie.db"
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "select acknowledged_at, mitigated_at, resolved_at from incidents where id = 1"
        ).fetchone()
    assert all(rows), rows


def test_bad_input_gets_usage_and_nothing_is_lost(start_jamie) -> None:
    jamie = start_jamie()
    jamie.expect("Jamie no console")
    jamie.send("abrir Falha sem severidade")
    assert "Falta a severidade" in jamie.expect("Uso: abrir <P0-P3>")
    jamie.send("frobnicate everything")
    jamie.expect("Não conheço o comando “frobnicate”")
    jamie.send('open P2 "unbalanced quote 😀 çã')
    jamie.expect("INC-0001 opened as P2")
    jamie.send("resolve INC-0042 nope")
    jamie.expect("There is no incident INC-0042")
    jamie.send("update INC-0001 " + "x" * 2500)
    jamie.expect("the limit is 2000")
    jamie.send("status INC-0001")
    assert "unbalanced quote 😀 çã" in jamie.expect("Horários em")
    assert jamie.close() == 0
