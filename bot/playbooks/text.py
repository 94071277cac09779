"""How checklists and hook runs read in chat (texts from the `playbook:` catalog section)."""

from __future__ import annotations

from datetime import datetime

from bot.i18n import Catalog
from bot.plan import Plan
from bot.plan.durations import format_duration
from bot.playbooks.checklists import ChecklistItem
from bot.playbooks.desk import RunOutcome, RunPreview
from bot.render.timefmt import TimeFormat


def checklist(
    ref: str, items: list[ChecklistItem], plan: Plan, time: TimeFormat, now: datetime,
    language: str,
) -> str:  # fmt: skip
    t = Catalog(language)
    if not items:
        return t("playbook.empty", ref=ref)
    done = sum(item.done for item in items)
    lines = [t("playbook.header", ref=ref, done=done, total=len(items))]
    current = None
    for item in items:
        if item.playbook != current:
            current = item.playbook
            book = plan.playbooks.get(item.playbook)
            trigger = book.trigger if book else "-"
            lines.append(t("playbook.section", name=item.playbook, trigger=trigger))
        if item.done and item.ticked_at is not None:
            at = time.short(item.ticked_at, now, language)
            lines.append("  " + t("playbook.item_done", number=item.number, text=item.text,
                                  by=item.ticked_by or "?", at=at))  # fmt: skip
        else:
            lines.append("  " + t("playbook.item_open", number=item.number, text=item.text))
        if item.hook and not item.done:
            lines.append("     " + t("playbook.item_hook", hook=item.hook, ref=ref,
                                       number=item.number))  # fmt: skip
    return "\n".join(lines)


def ticked(ref: str, item: ChecklistItem, language: str) -> str:
    return Catalog(language)("playbook.tick_reply", ref=ref, step=item.number, text=item.text)


def preview(ref: str, run: RunPreview, language: str) -> str:
    return Catalog(language)(
        "playbook.run_preview", ref=ref, step=run.item.number, hook=run.hook, what=run.what,
        within=format_duration(run.within),
    )  # fmt: skip


def ran(ref: str, run: RunOutcome, actor: str, language: str) -> str:
    result = run.result
    return Catalog(language)(
        "playbook.hook_ran", ref=ref, hook=run.hook, step=run.item.number, actor=actor,
        summary=result.summary, seconds=f"{result.seconds:.1f}",
        icon="✅" if result.ok else "❌", output=result.output or "-",
    )  # fmt: skip
