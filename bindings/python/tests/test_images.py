# SPDX-License-Identifier: LGPL-2.1-or-later
"""Images through the binding: the default image, a box on it, commit,
save, load, remove; each test with a store of its own."""
from pathlib import Path

import pytest

import libbox


@pytest.fixture
def store(ctx: libbox.Context, tmp_path: Path) -> libbox.Context:
    ctx.store_dir = str(tmp_path / "store")
    return ctx


def test_default_image_runs(store: libbox.Context) -> None:
    id_ = store.default_image()
    assert id_.startswith("sha256:") and len(id_) == 71
    [img] = store.images()
    assert img["names"] == ["busybox:latest"] and img["layers"] == 2
    assert store.inspect_image("busybox")["config"]["Cmd"] == ["sh"]
    assert store.call(["true"], image="busybox").ok
    out = store.run_to_completion(["cat", "/etc/os-release"], image="busybox",
                                  stdout=libbox.PIPE)
    assert b"busybox" in out.stdout


def test_commit_save_load(store: libbox.Context, tmp_path: Path) -> None:
    store.default_image()
    reports = []
    store.set_progress(lambda layer, layers, done, total: reports.append(layer))
    with store.run(["sh", "-c", "echo kept >/kept; sleep 1000"], image="busybox") as box:
        for _ in range(100):
            e = box.exec(["test", "-e", "/kept"])
            code = e.wait().exit_code
            e.destroy()
            if code == 0:
                break
        new = box.commit("mine:1")
    assert store.inspect_image("mine:1")["id"] == new
    with pytest.raises(libbox.Busy):
        with store.run(["sleep", "1000"], image="mine:1"):
            store.remove_image(new)
    store.save_image("mine:1", tmp_path / "mine.tar")
    store.remove_image("mine:1")
    with pytest.raises(libbox.NotFound):
        store.inspect_image("mine:1")
    assert store.load_image(tmp_path / "mine.tar") == ["mine:1"]
    assert reports, "no progress reported while the layers unpacked"
    out = store.run_to_completion(["cat", "/kept"], image="mine:1", stdout=libbox.PIPE)
    assert out.stdout == b"kept\n"
    store.tag_image("mine:1", "other")
    store.set_storage("vfs")
    out = store.run_to_completion(["cat", "/kept"], image="other", stdout=libbox.PIPE)
    assert out.stdout == b"kept\n"
    store.set_progress(None)


def test_import_and_errors(store: libbox.Context, tmp_path: Path) -> None:
    with pytest.raises(libbox.NotFound, match="no such image"):
        store.call(["true"], image="nosuch")
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 64)
    with pytest.raises(libbox.Error):
        store.import_image(junk, "junk")
    assert store.images() == []
