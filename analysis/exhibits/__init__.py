"""Exhibits for the paper: figures, tables and the numbers quoted in the text.

Everything here reads ``data_clean/`` and ``results/`` and writes into ``paper/generated/``.
"""
