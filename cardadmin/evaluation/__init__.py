"""The pilot evaluation (issue 6): Inera costs, dashboards, monthly statistics, the evaluation pack, exports."""
