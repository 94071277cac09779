"""The plan's automated playbooks: which alerts trigger them, their steps as an interactive
checklist on the incident, and the hooks a step may run once a commander confirms.

    model.py       the playbook, step, condition and hook shapes in the plan file
    matchers.py    Alertmanager-style label matchers (=, !=, =~, !~)
    prometheus.py  playbook conditions as Prometheus alert rules
    checklists.py  attaching, listing and ticking steps (each tick on the timeline)
    hooks.py       describing and running a hook: HTTP call or local command
    desk.py        the use cases the commands call: checklist, tick, run, confirm
"""
