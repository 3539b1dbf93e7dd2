"""Files: upload, preview and manage the data files Claude can analyse."""

from lib.ui import files_page
from lib.ui.setup import page_setup, require_key

ctx = page_setup("Files", ":material/folder_open:")
require_key(ctx)
files_page.render(ctx)
