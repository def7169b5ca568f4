"""Plotly figures, one module per thing shown, and `style` for what they share. No Streamlit.

Pure functions of the data: `training` (live and compared curves), `design` (a network's
widths), `model` (weights, confusions, answers), `explain` (why a
drawing got its answer), `units` (what hidden units look for), `board` (the class's runs).
"""
