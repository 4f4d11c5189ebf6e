"""The ecosystem question: what a PyO3 release or commit does to many real projects at once
(`pyo3-triage ecosystem`): a list of projects, two PyO3 revisions, a verdict per project."""
