"""Energy in operation: the workload simulator, selection policies, metering and budgets."""
