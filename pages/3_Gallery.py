"""Gallery: every chart and file any run has produced."""

from lib.ui import gallery_page
from lib.ui.setup import page_setup

ctx = page_setup("Gallery", ":material/photo_library:")
gallery_page.render(ctx)
