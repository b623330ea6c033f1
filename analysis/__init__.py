"""Immigration enforcement and local crime: a reproducible replication package.

Subpackages and modules follow the data flow: ``acquire`` (raw files) ->
``readers`` (one per source) -> ``panel`` (county x year panel, treatment timing,
sample log) -> ``specs`` / ``estimate`` (estimates) -> ``exhibits`` (figures,
tables, numbers for the paper).
"""

__version__ = "0.1.0"
