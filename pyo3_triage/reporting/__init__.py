"""Telling what the records say: the grid, its Markdown documents, the chart and the report on
disk.
"""
