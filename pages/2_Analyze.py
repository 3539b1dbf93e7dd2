"""Analyze: ask a question about your files and watch Claude work it out."""

from lib.ui import analyze_page
from lib.ui.setup import page_setup, require_key

ctx = page_setup("Analyze", ":material/query_stats:")
require_key(ctx)
analyze_page.render(ctx)
