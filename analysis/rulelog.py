"""Sample-log rows: one row per rule, in the order applied (schema of data_clean/sample_log.csv)."""

from __future__ import annotations

import pandas as pd

COLUMNS = [
    "step",
    "stage",
    "rule",
    "unit",
    "rows_before",
    "units_before",
    "dropped_rows",
    "dropped_units",
    "rows_after",
    "units_after",
    "reason",
]


class RuleLog:
    """Apply sample rules to a table and record each one as a sample-log row.

    ``units`` names the column whose distinct values are the units counted (None: each row
    is a unit), so a rule that drops duplicate records of one unit drops rows but no units.
    """

    def __init__(self, stage: str, unit: str, units: str | None = None):
        self.stage, self.unit, self.units, self._rows = stage, unit, units, []
        self.dropped_index: dict[str, pd.Index] = {}  # rule -> index labels of the rows it dropped

    def _count(self, df: pd.DataFrame) -> int:
        return len(df) if self.units is None else int(df[self.units].nunique())

    def drop(self, df: pd.DataFrame, mask, rule: str, reason: str) -> pd.DataFrame:
        """Drop the rows where ``mask`` is True, record the rule, and return the rest."""
        mask = pd.Series(mask, index=df.index).fillna(False).astype(bool)
        return self.record(df, df[~mask], rule, reason)

    def record(self, before: pd.DataFrame, after: pd.DataFrame, rule: str, reason: str) -> pd.DataFrame:
        """Record a rule that turned ``before`` into ``after`` (e.g. by merging rows); return ``after``."""
        units_before, units_after = self._count(before), self._count(after)
        self.dropped_index[rule] = before.index.difference(after.index)
        self._rows.append(
            dict(
                step=len(self._rows) + 1,
                stage=self.stage,
                rule=rule,
                unit=self.unit,
                rows_before=len(before),
                units_before=units_before,
                dropped_rows=len(before) - len(after),
                dropped_units=units_before - units_after,
                rows_after=len(after),
                units_after=units_after,
                reason=reason,
            )
        )
        return after

    def frame(self) -> pd.DataFrame:
        """The rules recorded so far, in the sample-log schema."""
        return pd.DataFrame(self._rows, columns=COLUMNS)
