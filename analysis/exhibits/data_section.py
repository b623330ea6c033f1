"""Numbers for the data section: raw files, panel and main sample."""

from __future__ import annotations

from analysis import config
from analysis.exhibits import inputs
from analysis.exhibits.numbers import fmt_int


def build() -> dict[str, str]:
    """Macros describing the raw files, the panel and the main sample."""
    manifest = inputs.read_csv(config.MANIFEST)
    panel = inputs.panel()
    main = panel[panel["in_main"]]
    return {
        "NRawFiles": fmt_int(len(manifest)),
        "RawMegabytes": f"{manifest['bytes'].sum() / 1e6:.1f}",
        "NCrimeFiles": fmt_int(manifest["path"].str.contains("-0004-Data.txt").sum()),
        "FirstYear": str(config.FIRST_YEAR),
        "LastYear": str(config.LAST_YEAR),
        "NYears": str(config.LAST_YEAR - config.FIRST_YEAR + 1),
        "NCountiesPanel": fmt_int(panel["fips"].nunique()),
        "NCountyYearsPanel": fmt_int(len(panel)),
        "NCountiesMain": fmt_int(main["fips"].nunique()),
        "NCountyYearsMain": fmt_int(len(main)),
        "NStatesMain": fmt_int(main["state_fips"].nunique()),
    }
