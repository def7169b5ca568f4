"""One tab cannot fill the server's memory through Draw's uploader: Streamlit's own file manager, capped."""

import pytest
from starlette.exceptions import HTTPException
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

from mnist_dash.ui import uploads


def photo(file_id: str, megabytes: float) -> UploadedFileRec:
    return UploadedFileRec(
        file_id=file_id, name=f"{file_id}.jpg", type="image/jpeg", data=b"\0" * int(megabytes * 2**20)
    )


def test_a_tab_keeps_at_most_three_files_and_twenty_megabytes():
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    assert uploads.cap(manager) and uploads.cap(manager)  # once, however often the app's runs ask
    for number in range(uploads.MAX_FILES):
        manager.add_file("tab-1", photo(f"f{number}", 1))
    with pytest.raises(HTTPException) as refused:
        manager.add_file("tab-1", photo("f3", 1))
    assert refused.value.status_code == 413 and "at most 3 files and 20 MB" in refused.value.detail
    assert len(manager.file_storage["tab-1"]) == uploads.MAX_FILES  # nothing more was kept
    manager.add_file("tab-1", photo("f0", 2))  # the same file again (a retry) replaces itself
    manager.remove_file("tab-1", "f1")  # the browser lets a replaced photo go: room again
    manager.add_file("tab-1", photo("f4", 1))
    manager.add_file("tab-2", photo("g0", 6))  # another tab has its own room
    with pytest.raises(HTTPException):
        manager.add_file("tab-2", photo("g1", 15))  # 6 + 15 MB: over 20 MB
    assert sorted(manager.file_storage["tab-2"]) == ["g0"]


def test_a_student_replacing_their_photo_a_hundred_times_never_meets_the_cap():
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    uploads.cap(manager)
    for number in range(100):
        manager.add_file("tab", photo(f"p{number}", 5))
        if number:
            manager.remove_file("tab", f"p{number - 1}")
    assert list(manager.file_storage["tab"]) == ["p99"]
