"""A browser session without the browser: Streamlit's own websocket protocol, for load benchmarks.

A real browser tab talks to the server over `/_stcore/stream` in protobuf messages:
it asks for a script run (`BackMsg.rerun_script`: page, query string, widget states),
and receives the page as `ForwardMsg` deltas. Fragments that refresh themselves are
driven by the browser too: the server sends `auto_rerun` (fragment id, interval) and
the browser asks for that fragment's rerun on that beat. This client does the same,
so thirty of them load the server as thirty students' tabs would, without thirty
Chromium renderers competing with it for the CPU.
"""

from __future__ import annotations

import asyncio
import re
import time

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

TRAINING = re.compile(r"\*\*Training:\*\* (.+)")


def _strings(element) -> list[str]:
    """The texts an element shows (markdown, alerts, progress text, button labels)."""
    kind = element.WhichOneof("type")
    if kind is None:
        return []
    inner = getattr(element, kind)
    return [value for field in ("body", "text", "label") if isinstance(value := getattr(inner, field, None), str)]


class Session:
    """One tab: open a page, press a keyed button, follow the sidebar's training status."""

    def __init__(self, url: str, page: str, query: str = ""):
        self.ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.page, self.query = page, query
        self.buttons: dict[str, str] = {}  # key -> widget id
        self.texts: list[str] = []
        self.status = "idle"  # the sidebar's "Training: ..." line
        self.statuses: list[tuple[float, str]] = []
        self.fragments: dict[str, float] = {}  # fragment id -> interval (s)
        self._ws = None
        self._finished = asyncio.Event()

    async def __aenter__(self) -> Session:
        self._ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=30)
        self._reader = asyncio.create_task(self._read())
        self._ticker = asyncio.create_task(self._tick())
        return self

    async def __aexit__(self, *exc) -> None:
        self._ticker.cancel()
        self._reader.cancel()
        await self._ws.close()

    async def run(self, widget_id: str | None = None, fragment_id: str = "") -> None:
        """Ask for a script run (a click on `widget_id` if given) and wait for it to finish."""
        message = BackMsg()
        state = message.rerun_script
        state.query_string, state.page_name = self.query, self.page
        if fragment_id:
            state.fragment_id, state.is_auto_rerun = fragment_id, True
        if widget_id:
            widget = state.widget_states.widgets.add()
            widget.id, widget.trigger_value = widget_id, True
        self._finished.clear()
        await self._ws.send(message.SerializeToString())
        if not fragment_id:
            await asyncio.wait_for(self._finished.wait(), timeout=120)

    async def click(self, key: str) -> None:
        await self.run(self.buttons[key])

    async def _read(self) -> None:
        async for raw in self._ws:
            message = ForwardMsg()
            message.ParseFromString(raw)
            kind = message.WhichOneof("type")
            if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                element = message.delta.new_element
                if element.WhichOneof("type") == "button" and "-" in element.button.id:
                    self.buttons[element.button.id.rsplit("-", 1)[-1]] = element.button.id
                for text in _strings(element):
                    self.texts.append(text)
                    if match := TRAINING.match(text):
                        self._set_status(match.group(1))
            elif kind == "auto_rerun":
                self.fragments[message.auto_rerun.fragment_id] = message.auto_rerun.interval
            elif kind == "stop_auto_rerun":
                for fragment_id in message.stop_auto_rerun.fragment_ids:
                    self.fragments.pop(fragment_id, None)
            elif kind == "script_finished" and message.script_finished != ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                self._finished.set()

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
