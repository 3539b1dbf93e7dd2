"""Compare: two runs side by side, such as a replay on new data beside its original."""

from lib.ui import compare_page
from lib.ui.setup import page_setup

ctx = page_setup("Compare", ":material/compare_arrows:")
compare_page.render(ctx)
