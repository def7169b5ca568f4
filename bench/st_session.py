"""A browser session without the browser: Streamlit's own websocket protocol, for load benchmarks.

A real browser tab talks to the server over `/_stcore/stream` in protobuf messages:
it asks for a script run (`BackMsg.rerun_script`: page, query string, widget states),
and receives the page as `ForwardMsg` deltas. Fragments that refresh themselves are
driven by the browser too: the server sends `auto_rerun` (fragment id, interval) and
the browser asks for that fragment's rerun on that beat. This client does the same,
so thirty of them load the server as thirty students' tabs would, without thirty
Chromium renderers competing with it for the CPU.

Like a tab, a session keeps the values of its widgets (an uploaded file) and sends them
with every run it asks for. An upload goes the browser's way: ask the session for an
upload URL (`file_urls_request`), PUT the file there with the XSRF cookie and header,
then rerun with the file in the uploader's state.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid

import requests
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import FileURLs
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

TRAINING = re.compile(r"\*\*Training:\*\* (.+)")
WHOLE_RUN_ENDS = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR)


def _strings(element) -> list[str]:
    """The texts an element shows (markdown, alerts, progress text, button labels)."""
    kind = element.WhichOneof("type")
    if kind is None:
        return []
    inner = getattr(element, kind)
    return [value for field in ("body", "text", "label") if isinstance(value := getattr(inner, field, None), str)]


def _has_points(spec: str) -> bool:
    """Whether a Plotly figure (its JSON) has a trace with at least one point."""
    for trace in json.loads(spec).get("data", ()):
        x = trace.get("x")
        if (isinstance(x, list) and x) or (isinstance(x, dict) and x.get("bdata")):  # a list, or a typed array
            return True
    return False


class Session:
    """One tab: open a page, press a keyed button, upload a file, follow the sidebar's training status."""

    def __init__(self, url: str, page: str, query: str = "", device: str | None = None):
        """`device`: the browser this tab is in (its XSRF cookie, which the app knows a browser by); None: a
        browser of its own, as a tab without cookies is."""
        self.url, self.device = url, device
        self.ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.page, self.query = page, query
        self.session_id = ""  # the server's id for this session (upload URLs carry it)
        self.page_script_hash = ""  # the page being shown, once the server has said which
        self.widget_ids: dict[str, str] = {}  # key -> widget id, for keyed widgets (buttons, uploaders, charts)
        self.widget_states: dict[str, WidgetState] = {}  # widget id -> the value this tab holds (an upload)
        self.disabled: dict[str, bool] = {}  # key -> whether the widget was drawn disabled
        self.texts: list[str] = []
        self.status = "idle"  # the sidebar's "Training: ..." line
        self.statuses: list[tuple[float, str]] = []
        self.charts_with_points: dict[str, float] = {}  # chart key -> when it first arrived with a point
        self.fragments: dict[str, float] = {}  # fragment id -> interval (s)
        self._file_urls: dict[str, asyncio.Future] = {}  # upload URL requests awaiting their answer
        self._ws = None
        self._fragment_run = False  # whether the run in progress reruns fragments only
        self._finished = asyncio.Event()

    async def __aenter__(self) -> Session:
        cookie = {"Cookie": f"_streamlit_xsrf={self.device}"} if self.device else None
        self._ws = await websockets.connect(
            self.ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=30, additional_headers=cookie
        )
        self._reader = asyncio.create_task(self._read())
        self._ticker = asyncio.create_task(self._tick())
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the tab (again: no harm): its connection ends, as when a page is reloaded or closed."""
        self._ticker.cancel()
        self._reader.cancel()
        await self._ws.close()

    async def run(self, widget_id: str | None = None, fragment_id: str = "") -> None:
        """Ask for a script run (a click on `widget_id` if given) and wait for it to finish."""
        message = BackMsg()
        state = message.rerun_script
        state.query_string, state.page_name = self.query, self.page
        # After the first run, the page as the server named it (its hash), as a browser sends it: a
        # rerun that the script asks for itself (`st.rerun` in a fragment) keeps only the hash.
        state.page_script_hash = self.page_script_hash
        if fragment_id:
            state.fragment_id, state.is_auto_rerun = fragment_id, True
        for held in self.widget_states.values():
            state.widget_states.widgets.add().CopyFrom(held)
        if widget_id:
            widget = state.widget_states.widgets.add()
            widget.id, widget.trigger_value = widget_id, True
        self._finished.clear()
        await self._ws.send(message.SerializeToString())
        if not fragment_id:
            await asyncio.wait_for(self._finished.wait(), timeout=120)

    async def click(self, key: str) -> None:
        """Press the button with `key`, even a disabled one (a crafted client can; Streamlit drops such a click)."""
        await self.run(self.widget_ids[key])

    async def type(self, key: str, text: str) -> None:
        """Type `text` into the text field with `key` and press Enter (its value is sent with the run)."""
        widget_id = self.widget_ids[key]
        self.widget_states[widget_id] = WidgetState(id=widget_id, string_value=text)
        await self.run()

    async def upload(self, key: str, name: str, data: bytes, mime: str) -> None:
        """Choose `data` as the file of the uploader with `key`, replacing its last one, as a browser does."""
        widget_id = self.widget_ids[key]
        message = BackMsg()
        request = message.file_urls_request
        request.request_id, request.session_id = str(uuid.uuid4()), self.session_id
        request.file_names.append(name)
        answer = asyncio.get_running_loop().create_future()
        self._file_urls[request.request_id] = answer
        await self._ws.send(message.SerializeToString())
        urls: FileURLs = await asyncio.wait_for(answer, timeout=60)
        previous = self.widget_states.get(widget_id)
        await asyncio.to_thread(self._put, urls.upload_url, name, data, mime)
        state = WidgetState(id=widget_id)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.file_id, info.name, info.size = urls.file_id, name, len(data)
        info.file_urls.CopyFrom(urls)
        self.widget_states[widget_id] = state
        if previous is not None:  # the browser lets the replaced file go
            for old in previous.file_uploader_state_value.uploaded_file_info:
                await asyncio.to_thread(self._http, "DELETE", old.file_urls.delete_url)
        await self.run()

    def _http(self, method: str, path: str, **kwargs) -> None:
        """An HTTP request to the server with the XSRF cookie and header a browser sends."""
        with requests.Session() as http:
            http.get(f"{self.url}/_stcore/health", timeout=30).raise_for_status()  # sets the XSRF cookie
            token = http.cookies.get("_streamlit_xsrf", "")
            url = path if path.startswith("http") else self.url + path
            http.request(method, url, headers={"X-Xsrftoken": token}, timeout=120, **kwargs).raise_for_status()

    def _put(self, path: str, name: str, data: bytes, mime: str) -> None:
        self._http("PUT", path, files={"file": (name, data, mime)})

    async def _read(self) -> None:
        async for raw in self._ws:
            message = ForwardMsg()
            message.ParseFromString(raw)
            kind = message.WhichOneof("type")
            if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                self._element(message.delta.new_element)
            elif kind == "navigation":
                self.page_script_hash = message.navigation.page_script_hash
            elif kind == "page_info_changed":  # the app changed its link (st.query_params): the address bar's
                self.query = message.page_info_changed.query_string
            elif kind == "new_session":
                self.session_id = message.new_session.initialize.session_id
                self._fragment_run = bool(message.metadata.run.fragment_ids)
                if not self._fragment_run:  # a whole run: it says again which fragments tick
                    self.fragments.clear()
            elif kind == "file_urls_response":
                response = message.file_urls_response
                answer = self._file_urls.pop(response.response_id, None)
                if answer is not None and not answer.done():
                    if response.error_msg or not response.file_urls:
                        answer.set_exception(RuntimeError(f"no upload URL: {response.error_msg}"))
                    else:
                        answer.set_result(response.file_urls[0])
            elif kind == "auto_rerun":
                self.fragments[message.auto_rerun.fragment_id] = message.auto_rerun.interval
            elif kind == "stop_auto_rerun":
                for fragment_id in message.stop_auto_rerun.fragment_ids:
                    self.fragments.pop(fragment_id, None)
            elif kind == "script_finished" and not self._fragment_run and message.script_finished in WHOLE_RUN_ENDS:
                self._finished.set()  # a whole run ended (not one cut short for the next, nor a fragment's)

    def _element(self, element) -> None:
        kind = element.WhichOneof("type")
        widget_id = getattr(getattr(element, kind), "id", "") if kind else ""
        key = widget_id.rsplit("-", 1)[-1] if isinstance(widget_id, str) and "-" in widget_id else ""
        if key:
            self.widget_ids[key] = widget_id
            self.disabled[key] = bool(getattr(getattr(element, kind), "disabled", False))
        if (
            kind == "plotly_chart"
            and key
            and key not in self.charts_with_points
            and _has_points(element.plotly_chart.spec)
        ):
            self.charts_with_points[key] = time.perf_counter()
        for text in _strings(element):
            self.texts.append(text)
            if match := TRAINING.match(text):
                self._set_status(match.group(1))

    def _set_status(self, status: str) -> None:
        if status != self.status:
            self.status = status
            self.statuses.append((time.perf_counter(), status))

    async def _tick(self) -> None:
        """Rerun self-refreshing fragments on their beat, as the browser does."""
        due: dict[str, float] = {}
        while True:
            await asyncio.sleep(0.1)
            now = time.perf_counter()
            for fragment_id, interval in list(self.fragments.items()):
                if now >= due.setdefault(fragment_id, now + interval):
                    due[fragment_id] = now + interval
                    await self.run(fragment_id=fragment_id)
