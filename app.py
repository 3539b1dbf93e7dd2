"""Home: what the app does, key setup, the offline demo, samples and recent runs."""

from lib.ui import home
from lib.ui.setup import page_setup

ctx = page_setup("Home", ":material/analytics:")
home.render(ctx)
