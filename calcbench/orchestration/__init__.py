"""Local orchestration: plans, stack boot and supervision, phases and the run record.

Stands on the services, the load generator and analysis; only the CLI stands on it.
"""
