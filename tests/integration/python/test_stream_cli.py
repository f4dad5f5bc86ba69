"""`pulse ingest --stream` and `pulse publish` refuse bad command lines and settings clearly, before
connecting to anything (no broker needed): each names what is wrong, exit 2 for usage, 1 for values."""
import pytest

from conftest import run_pulse


@pytest.mark.parametrize("args, code, message", [
    (["ingest"], 2, "no file given"),
    (["ingest", "f.csv", "--stream", "kafka://h:1/t"], 2, "give files or --stream, not both"),
    (["ingest", "--stream", "redis://h:1/t"], 1, "is not a kafka:// URL"),
    (["ingest", "--stream", "kafka://h:1"], 1, "names no topic"),
    (["ingest", "--stream", "kafka:///t"], 1, "names no broker"),
    (["ingest", "--stream", "kafka://h:1/bad topic"], 1, "has a character Kafka does not allow"),
    (["ingest", "--stream", "kafka://h:1/t", "--metrics-port", "70000"], 2, "--metrics-port: must lie in"),
    (["--set", "stream.start=middle", "ingest", "--stream", "kafka://h:1/t"], 1, "stream.start"),
    (["--set", "stream.batch_max_records=0", "ingest", "--stream", "kafka://h:1/t"], 1, "stream.batch_max_records"),
    (["--set", "stream.format=csv", "ingest", "--stream", "kafka://h:1/t"], 1, "needs stream.csv_header"),
    (["--set", "stream.format=csv", "--set", "stream.csv_header=a,b", "ingest", "--stream", "kafka://h:1/t"], 1,
     "no 'name' column"),
    (["--set", "stream.url=http://x", "ingest"], 1, "stream.url: must be kafka://"),
    (["publish", "f.csv"], 2, "--to is required"),
    (["publish", "f.csv", "--to", "kafka://h:1/^a.*"], 1, "not a pattern"),
    # The file-layout flags are pulse ingest's (cli.h, FileLayoutArgs), checked the same way.
    (["publish", "f.csv", "--to", "kafka://h:1/t", "--format", "xml"], 1, "--format must be csv or jsonl, got 'xml'"),
    (["publish", "f.csv", "--to", "kafka://h:1/t", "--time", "year"], 1, "--time applies to --wide files only"),
    (["ingest", "f.csv", "--format", "xml"], 1, "--format must be csv or jsonl, got 'xml'"),
    (["ingest", "f.csv", "--time", "year"], 1, "--time applies to --wide files only"),
])
def test_bad_stream_command_lines(pulse_bin, lake, args, code, message):
    proc = run_pulse(pulse_bin, "--lake", lake, *args, check=False)
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert message in proc.stderr, proc.stderr


def test_publish_missing_file_is_a_clear_error(pulse_bin, tmp_path):
    proc = run_pulse(pulse_bin, "publish", tmp_path / "absent.csv", "--to", "kafka://127.0.0.1:1", check=False)
    assert proc.returncode == 1 and "absent.csv" in proc.stderr, proc.stderr
