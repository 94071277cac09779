"""The hospital's incident-response plan as validated data."""

from bot.plan.loader import PlanError, load_plan
from bot.plan.model import Contact, Plan, SeverityPolicy

__all__ = ["Contact", "Plan", "PlanError", "SeverityPolicy", "load_plan"]
