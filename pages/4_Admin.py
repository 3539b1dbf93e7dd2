"""Admin: each user's runs, tokens and estimated cost this month, and their monthly budgets."""

from lib.ui import admin_page
from lib.ui.setup import page_setup, require_admin

ctx = page_setup("Admin", ":material/admin_panel_settings:")
require_admin(ctx)
admin_page.render(ctx)
