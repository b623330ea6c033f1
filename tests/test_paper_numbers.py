"""The paper's headline numbers (paper/generated/numbers.tex) against the results files, and the
paper's use of macros: every macro it uses is defined, every label it references exists."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from analysis import config
from analysis.exhibits.headline import fmt_p, fmt_p_text, pct
from analysis.exhibits.numbers import fmt_num, parse

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

PAPER = config.PAPER / "paper.tex"


@pytest.fixture(scope="module")
def macros() -> dict[str, str]:
    if not config.NUMBERS.exists():
        pytest.skip("numbers.tex not built (make exhibits)")
    return parse(config.NUMBERS)


def overall(spec: str, estimator: str) -> pd.Series:
    return pd.read_csv(config.RESULTS / spec / "overall.csv").set_index("estimator").loc[estimator]


@pytest.mark.parametrize(
    "macro,spec,estimator,digits",
    [
        ("ScIndexTwfe", "sc_index", "twfe", 3),
        ("ScIndexTwfeTrends", "sc_index", "twfe_trends", 3),
        ("ScIndexCs", "sc_index", "cs_simple", 3),
        ("NationalIndexTwfe", "us_287g_index", "twfe", 3),
        ("NationalIndexCs", "us_287g_index", "cs_simple", 3),
        ("NationalIndexSunab", "us_287g_index", "sunab", 3),
        ("NationalIndexImputation", "us_287g_index", "imputation", 3),
        ("NationalViolentTwfe", "us_287g_violent", "twfe", 3),
        ("NcViolentTwfe", "nc_287g_violent", "twfe", 1),
        ("NcPropertyTwfe", "nc_287g_property", "twfe", 1),
    ],
)
def test_estimate_macros_match_results(macros, macro, spec, estimator, digits):
    row = overall(spec, estimator)
    assert macros[macro] == fmt_num(row["estimate"], digits)
    assert macros[macro + "Se"] == fmt_num(row["se"], digits)
    assert macros[macro + "P"] == fmt_p(row["pvalue"])


def test_headline_values_by_hand(macros):
    """Independent of the formatting helpers: round the CSV value ourselves."""
    b = overall("sc_index", "twfe")["estimate"]
    assert float(macros["ScIndexTwfe"].replace("$-$", "-")) == round(b, 3)
    assert float(macros["ScIndexTwfePct"].replace("$-$", "-")) == round(100 * (math.exp(b) - 1), 1)
    n = overall("us_287g_index", "twfe")["n_obs"]
    assert macros["NationalIndexObs"].replace("{,}", "") == str(int(n))


def test_wild_p_values(macros):
    for spec, prefix in [
        ("nc_287g_violent", "NcViolent"),
        ("nc_287g_property", "NcProperty"),
        ("nc_287g_index", "NcIndex"),
    ]:
        assert macros[prefix + "WildP"] == f"{overall(spec, 'wild')['pvalue']:.3f}"


def test_ri_and_replication_macros(macros):
    for program, prefix in [("287g", "National"), ("sc", "Sc")]:
        table = pd.read_csv(config.RESULTS / f"ri_{program}" / "ri.csv").set_index("scheme")
        ri = table.loc["unrestricted"]
        assert macros[prefix + "RiP"] == fmt_p(ri["p_perm"])
        assert macros[prefix + "RiPermutations"].replace("{,}", "") == str(int(ri["n_perm"]))
        for scheme, key in (("within_state", "State"), ("within_size3_2000", "Size")):
            assert macros[f"{prefix}Ri{key}P"] == fmt_p(table.loc[scheme, "p_perm"])
    rep = pd.read_csv(config.RESULTS / "replication.csv")
    assert macros["ReplicationComparisons"] == str(len(rep))
    closest = rep["verdict"].str.startswith("consistent").sum()
    assert macros["ReplicationClosestConsistent"] == str(closest)


def test_bacon_weight_shares_sum_to_100(macros):
    for prefix in ("National", "Sc"):
        total = sum(
            float(macros[f"{prefix}IndexBaconWeight{k}Pct"]) for k in ("Untreated", "EarlierTreated", "LaterTreated")
        )
        assert total == pytest.approx(100, abs=0.2)


def test_p_value_formatting():
    assert fmt_p(0.0543) == "0.054"
    assert fmt_p(0.0001) == r"$<$0.001"
    assert fmt_p_text(0.0001) == r"$p<0.001$"
    assert fmt_p_text(0.2) == r"$p=0.200$"
    with pytest.raises(ValueError):
        fmt_p(1.2)
    assert pct(math.log(1.5)) == pytest.approx(50)


def test_every_macro_in_the_paper_is_defined(macros):
    text = PAPER.read_text(encoding="utf-8")
    used = set(re.findall(r"\\([A-Z][A-Za-z]+)", text))
    latex_builtins = {"LaTeX", "TeX"}  # capitalised commands that are LaTeX's own, not ours
    undefined = sorted(used - set(macros) - latex_builtins)
    assert not undefined, f"paper.tex uses undefined macros: {undefined}"


def test_no_hard_coded_estimates_in_the_text():
    """Numbers with a decimal point in the body text must come from macros (captions and notes may
    describe the published values in words)."""
    text = PAPER.read_text(encoding="utf-8")
    body = text.split(r"\begin{document}")[1]
    body = re.sub(r"%.*", "", body)
    allowed: set[str] = set()
    found = set(re.findall(r"(?<![\w{.])-?\d+\.\d+", body)) - allowed
    assert not found, f"hard-coded decimals in paper.tex: {sorted(found)}"


def test_references_and_labels_resolve():
    """Every \\ref has its \\label in the paper or a section it inputs (paper/sections/), every \\cite its
    entry in references.bib."""
    text = PAPER.read_text(encoding="utf-8")
    text += "".join(p.read_text(encoding="utf-8") for p in sorted((config.PAPER / "sections").glob("*.tex")))
    labels = set(re.findall(r"\\label\{([^}]+)\}", text))
    refs = set(re.findall(r"\\ref\{([^}]+)\}", text))
    assert refs <= labels, f"references without a label: {sorted(refs - labels)}"
    bib = (config.PAPER / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    cited = {k.strip() for group in re.findall(r"\\cite[pt]?\{([^}]+)\}", text) for k in group.split(",")}
    assert cited <= keys, f"citations without a bib entry: {sorted(cited - keys)}"
    figures = set(re.findall(r"\\includegraphics\[[^]]*\]\{([^}]+)\}", text))
    tables = set(re.findall(r"\\tablebody\{([^}]+)\}", text))
    missing = [f for f in figures if not (config.FIGURES / f"{f}.pdf").exists()]
    missing += [t for t in tables if not (config.TABLES / f"{t}.tex").exists()]
    assert not missing, f"exhibits used by the paper but not generated: {missing}"


def test_one_appendix_lettering():
    """\\appendix once: a second one (after the references) restarted the letters, so two appendices
    were each 'A' and 'B' and a reference to 'Appendix A' was ambiguous."""
    text = PAPER.read_text(encoding="utf-8")
    text += "".join(p.read_text(encoding="utf-8") for p in sorted((config.PAPER / "sections").glob("*.tex")))
    code = "\n".join(line.split("%")[0] for line in text.splitlines())
    assert len(re.findall(r"\\appendix\b", code)) == 1


def test_article_numbers_come_from_the_seed_table(macros):
    seed = pd.read_csv(config.RESULTS / "rollout" / "seed_numbers.csv").set_index("claim")["article"]
    assert macros["ArticleAgreementsDecTwentyFour"] == str(seed["Agreements, December 2024"])
    assert macros["ArticleAgreementsMayTwentyFive"] == str(seed["Agreements, 28 May 2025"])


def test_cited_software_versions_are_the_pinned_ones():
    """A version quoted in references.bib is the one requirements.txt installs (the bib is typed by hand)."""
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (config.ROOT / "requirements.txt").read_text(), re.M))
    pins = {name.lower().replace("_", "-"): version for name, version in pins.items()}
    bib = (config.PAPER / "references.bib").read_text(encoding="utf-8")
    quoted = re.findall(r"@misc\{(\w+),[^@]*?Python package, version ([\d.]+)", bib)
    assert len(quoted) >= 4
    names = {"diffdiff": "diff-diff"}
    for key, version in quoted:
        assert pins[names.get(key, key)] == version, (
            f"references.bib {key}: version {version}, pinned {pins[names.get(key, key)]}"
        )
