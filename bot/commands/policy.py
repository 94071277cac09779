"""Who may run what: the one table to read when asking "can this person resolve?"."""

from __future__ import annotations

from bot.commands.words import CommandName
from bot.domain.enums import Role

REQUIRED_ROLE: dict[CommandName, Role] = {
    CommandName.HELP: Role.OBSERVER,
    CommandName.STATUS: Role.OBSERVER,
    CommandName.TIMELINE: Role.OBSERVER,
    CommandName.LIST: Role.OBSERVER,
    CommandName.ASK: Role.OBSERVER,
    CommandName.RCA: Role.OBSERVER,  # a suggestion only: Jamie takes no action
    CommandName.OPEN: Role.OBSERVER,  # anyone who sees a problem may declare it
    CommandName.UPDATE: Role.OBSERVER,
    CommandName.ACK: Role.RESPONDER,
    CommandName.MITIGATE: Role.RESPONDER,
    CommandName.ESCALATE: Role.RESPONDER,  # raising severity only brings more help
    CommandName.DOWNGRADE: Role.COMMANDER,
    CommandName.RESOLVE: Role.COMMANDER,
    CommandName.REOPEN: Role.COMMANDER,
    CommandName.ASSIGN: Role.COMMANDER,
    CommandName.CHECKLIST: Role.OBSERVER,
    CommandName.TICK: Role.RESPONDER,
    CommandName.RUN: Role.RESPONDER,  # only shows what would run and records the request
    CommandName.CONFIRM: Role.COMMANDER,  # runs a hook: acts on production systems
    CommandName.FLAG: Role.RESPONDER,  # starts regulatory deadlines
    CommandName.NOTIFIED: Role.RESPONDER,  # stops their reminders
    CommandName.WORKAROUND: Role.OBSERVER,  # like an update: what users can do meanwhile
}


def allowed(role: Role, command: CommandName) -> bool:
    return role.level >= REQUIRED_ROLE[command].level
