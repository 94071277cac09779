"""Regulatory flags on incidents and the notification deadlines they start (ANVISA 24 h,
CFM 48 h, ANPD 72 h in the plan): `flag` sets one, `notified` records a regulator told;
the clock sweep (bot/scheduling/sla_sweep.py) sends the reminders until then."""
