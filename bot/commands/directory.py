"""Maps a transport identity to a person of the plan and their role."""

from __future__ import annotations

from bot.domain.enums import Role, Transport
from bot.domain.people import Actor
from bot.plan import Plan


class Directory:
    def __init__(self, plan: Plan) -> None:
        self._by_identity: dict[tuple[str, str], str] = {}
        self._wildcards: dict[str, str] = {}
        self._plan = plan
        for key, person in plan.responders.items():
            for transport, ids in person.identities.items():
                for ident in ids:
                    if ident == "*":
                        self._wildcards.setdefault(transport, key)
                    else:
                        self._by_identity[(transport, str(ident))] = key

    def actor(self, transport: Transport, user_id: str, display_name: str) -> Actor:
        """The acting person; unknown identities are observers under their own name."""
        key = self._by_identity.get((transport.value, user_id)) or self._wildcards.get(
            transport.value
        )
        if key is None:
            return Actor(name=display_name, transport=transport, user_id=user_id)
        person = self._plan.responders[key]
        return Actor(
            name=display_name or person.name,
            transport=transport,
            user_id=user_id,
            role=person.role,
            language=person.language,
            responder_key=key,
        )

    def role_of(self, transport: Transport, user_id: str) -> Role:
        return self.actor(transport, user_id, "").role
