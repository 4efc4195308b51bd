"""`kaohe backup`, `kaohe restore` and `kaohe verify` with the files in S3 (a moto server).

Real installations run `kaohe` in processes of their own, configured only by the
environment (KAOHE_S3_BUCKET and friends): the source stores its files in one bucket, the
restored installation in another. Nothing is stored on their local disks.
"""

import json

import pytest

from tests.maintenance.test_backup_restore import (
    CRASH_POINTS,
    INJECT_FAILURE,
    SOURCE_SETUP,
    crash_restore,
)
from tests.s3 import moto_server_fixture, new_bucket  # noqa: F401


def _no_local_files(installation):
    return not installation.files_dir.exists() or not any(
        p.is_file() for p in installation.files_dir.rglob("*"))


def test_backup_restore_and_verify_cover_the_bucket(new_installation, moto_server, tmp_path):
    source, bucket = new_installation(), new_bucket(moto_server)
    source_env = source.env(**bucket.env())
    source.kaohe("shell", "--no-imports", "-c", SOURCE_SETUP, env=source_env)
    stored = bucket.hashes()
    assert len(stored) == 4 and sum(key.startswith("evidence/") for key in stored) == 3
    assert "exports/2017/说明.txt" in stored
    assert _no_local_files(source)

    backup = tmp_path / "backup"
    made = source.kaohe("backup", str(backup), env=source_env)
    assert "备份完成" in made.stdout
    manifest = json.loads((backup / "manifest.json").read_text(encoding="utf-8"))
    assert {name: entry["sha256"] for name, entry in manifest["files"].items()
            if name.startswith("files/")} == {f"files/{k}": v for k, v in stored.items()}

    # A target whose bucket holds an object is not empty; --force replaces what it holds.
    target, target_bucket = new_installation(empty=True), new_bucket(moto_server)
    target_env = target.env(**target_bucket.env())
    target_bucket.put("evidence/2016/left-over", b"x")
    refused = target.kaohe("restore", str(backup), check=False, env=target_env)
    assert refused.returncode != 0 and "1 个文件" in refused.stderr
    assert target_bucket.keys() == ["evidence/2016/left-over"]

    restored = target.kaohe("restore", str(backup), "--force", env=target_env)
    assert "恢复完成" in restored.stdout and "行数与备份一致" in restored.stdout
    assert target_bucket.hashes() == stored
    assert _no_local_files(target)
    verified = target.kaohe("verify", env=target_env)
    assert "evidence files OK: 3 files verified" in verified.stdout

    # verify notices an object that is gone and one whose bytes changed.
    evidence = sorted(key for key in stored if key.startswith("evidence/"))
    target_bucket.delete(evidence[0])
    altered = bytearray(target_bucket.get(evidence[1]))
    altered[len(altered) // 2] ^= 0x01
    target_bucket.put(evidence[1], bytes(altered))
    broken = target.kaohe("verify", check=False, env=target_env)
    assert broken.returncode != 0
    ids = {key: key.rsplit("/", 1)[1] for key in evidence}
    assert f"evidence {ids[evidence[0]]}: file missing" in broken.stderr
    assert f"evidence {ids[evidence[1]]}: SHA-256 does not match" in broken.stderr
    assert ids[evidence[2]] not in broken.stderr


def test_a_restore_failing_mid_way_leaves_the_bucket_as_it_was(new_installation, moto_server,
                                                                tmp_path):
    source, bucket = new_installation(), new_bucket(moto_server)
    source_env = source.env(**bucket.env())
    source.kaohe("shell", "--no-imports", "-c", SOURCE_SETUP, env=source_env)
    backup = tmp_path / "backup"
    source.kaohe("backup", str(backup), env=source_env)

    target, target_bucket = new_installation(), new_bucket(moto_server)
    target_env = target.env(**target_bucket.env())
    target_bucket.put("evidence/2016/own-file", b"own")
    target_bucket.put("exports/2017/说明.txt", "原有内容".encode())  # replaced by the restore
    before, rows = target_bucket.hashes(), target.tables()

    code = (INJECT_FAILURE.replace("WHERE", repr("database"))
            .replace("SRC", repr(str(backup))))
    result = target.kaohe("shell", "--no-imports", "-c", code, env=target_env)
    assert "restore failed: injected" in result.stdout, result.stdout + result.stderr
    assert target_bucket.hashes() == before  # added objects removed, the replaced one back
    assert target.tables() == rows


@pytest.mark.parametrize("point", ["file-aside", "database-committed"])
def test_a_restore_killed_mid_way_is_settled_in_the_bucket(new_installation, moto_server,
                                                            tmp_path, point):
    """The journal and the copies aside are objects of the bucket: any host settles them."""
    source, bucket = new_installation(), new_bucket(moto_server)
    source_env = source.env(**bucket.env())
    source.kaohe("shell", "--no-imports", "-c", SOURCE_SETUP, env=source_env)
    backup = tmp_path / "backup"
    source.kaohe("backup", str(backup), env=source_env)

    target, target_bucket = new_installation(), new_bucket(moto_server)
    target_env = target.env(**target_bucket.env())
    target_bucket.put("evidence/2016/own-file", b"own")
    target_bucket.put("exports/2017/说明.txt", "原有内容".encode())  # replaced by the restore
    before, rows = target_bucket.hashes(), target.tables()

    crash_restore(target, backup, point, env=target_env)
    assert any(key.startswith(".kaohe-restore/") for key in list(target_bucket.keys()))
    reported = target.kaohe("verify", check=False, env=target_env)
    assert "kaohe restore --recover" in reported.stderr

    target.kaohe("restore", "--recover", env=target_env)
    assert not any(key.startswith(".kaohe-restore/") for key in list(target_bucket.keys()))
    assert _no_local_files(target)
    if CRASH_POINTS[point] == "back":
        assert target_bucket.hashes() == before
        assert target.tables() == rows
    else:
        assert target_bucket.hashes() == bucket.hashes()
        assert "evidence files OK: 3 files verified" in target.kaohe(
            "verify", env=target_env).stdout
