"""Stage 7, report: evaluations rendered as a table, JSON or a Markdown memo.

`data.evaluation_dict` builds the JSON contract (DESIGN.md); every other format renders
from the same dictionary, so all formats say the same thing.
"""

from policyengine.report.data import evaluation_dict
from policyengine.report.json_format import render_json, render_jsonl
from policyengine.report.markdown import render_markdown
from policyengine.report.table import render_table

RENDERERS = {"table": render_table, "json": render_json, "jsonl": render_jsonl, "markdown": render_markdown}

__all__ = ["RENDERERS", "evaluation_dict", "render_json", "render_jsonl", "render_markdown", "render_table"]
