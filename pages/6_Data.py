"""Data: the live SQL sources you may use, their tables, columns and first rows."""

from lib.ui import data_page
from lib.ui.setup import page_setup

ctx = page_setup("Data", ":material/database:")
data_page.render(ctx)
