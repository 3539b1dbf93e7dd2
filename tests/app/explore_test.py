from lib import jobs
from .conftest import *

def test_explore(app, emulator):
    at = upload_sales_and_open_analyze(app)
    print("files", at.multiselect(key="analyze_files").value)
    at.button(key="prompt_first_look").click(); run(at)
    print("Q", at.text_area(key="analyze_question").value)
    rid = start_analysis(at, prompt=None)
    finish(at, rid)
    print("STATUS", run_status(at))
    for cm in at.chat_message:
        print("CHAT", cm.name, [m.value[:100] for m in cm.markdown])
    for c in at.code: print("CODE", c.language, repr(c.value[:120]))
    for i in at.image: print("IMG", i.value, i.caption if hasattr(i,'caption') else None)
    for d in at.download_button: print("DL", d.label, d.key, d.proto.url)
    for c in at.caption: print("CAP", c.value)
    for m in at.markdown: print("MD", m.value[:150])
