"""Infrastructure of the pipeline, not steps of it: atomic writes, the run log, raw-file checks and
audits, Make dependency scans, the environment check, the command-line wrapper and errors, YAML
reading, name suggestions, the notebook runner, benchmarks and the JupyterLab launcher."""
