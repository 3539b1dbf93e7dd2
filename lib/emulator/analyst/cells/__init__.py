"""Python cells the demo analyst really runs in the container: load and profile a table, then one analysis.

Every cell starts with loader.LOADER (each runs in a fresh interpreter). An analysis cell is outputs.SETUP, the
periods helpers when it works over time, the analysis (analyses.ANALYSES: trend, drivers, anomaly, lookup, and
describe's distribution, correlation and values), then outputs' chart, spec, summary and findings. The analysis
cells take their choices (which columns, how to add them up) as plain assignments the plan writes above them, so
a reader sees what was chosen. Each chart is drawn twice from the same numbers, as a PNG and as a Vega-Lite spec,
in the same order and scale.
"""
