"""What the post-editor refuses: uploads that name files outside themselves,
requests addressed to another host or sent by another site's page, damaged
zip files, and long input that would hold the server."""

import http.server
import io
import json
import os
import struct
import tempfile
import threading
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from autogloss.formats import write_records  # noqa: E402
from autogloss.formats.sigmorphon import read_sigmorphon  # noqa: E402
from autogloss.records import IGTRecord  # noqa: E402
from autogloss.web import ServerSettings, create_app  # noqa: E402
from autogloss.web import app as web_app  # noqa: E402

from conftest import TRAIN  # noqa: E402
from interlinear_fixtures import ELAN, FLEXTEXT  # noqa: E402

SECRET = "Secretword xabar boqno."
SECRET_CSV = f"ID,Language_ID,Primary_Text,Analyzed_Word,Gloss\nleak,ddo,{SECRET},,\n"


def _settings(tmp_path, model_dir, **options):
    return ServerSettings({"tsez": model_dir}, tmp_path / "corrections.jsonl", max_upload_bytes=200_000, **options)


def _records(text):
    """The records of a shared-task text."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train.txt"
        path.write_text(text, encoding="utf-8")
        return list(read_sigmorphon(path))


@pytest.fixture
def client(tmp_path, model_dir):
    """A server as ``autogloss serve`` starts it on 127.0.0.1:8000, addressed by that name."""
    app = create_app(_settings(tmp_path, model_dir).listening("127.0.0.1", 8000))
    with TestClient(app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def _upload(client, name, content, headers=None):
    return client.post("/api/documents/upload", data={"model": "tsez"}, headers=headers or {},
                       files={"file": (name, content, "application/octet-stream")})


def _dataset_zip(tmp_path, change=None) -> bytes:
    """A zipped CLDF dataset (in a folder ``dataset/``), its metadata changed by ``change``."""
    folder = tmp_path / "dataset"
    write_records([IGTRecord("e1", "Ixiw raład boqno.", glosses="big ? III-become-PST.UNW",
                             segmentation="ixiw raład b-oq-n")], folder, "cldf")
    metadata = json.loads((folder / "Generic-metadata.json").read_text(encoding="utf-8"))
    if change:
        change(metadata, next(t for t in metadata["tables"] if t["url"] == "examples.csv"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in folder.iterdir():
            content = json.dumps(metadata) if path.name == "Generic-metadata.json" else path.read_bytes()
            archive.writestr(f"dataset/{path.name}", content)
    return buffer.getvalue()


def _in_upload_folder(path: Path) -> str:
    """``path`` relative to where the server unpacks an upload's metadata file
    (``<temp>/autogloss-dataset-<random>/dataset/``)."""
    return os.path.relpath(path, Path(tempfile.gettempdir()) / "autogloss-dataset-x" / "dataset")


# -- item 1: an uploaded dataset names only its own files --------------------------------------------
def test_the_test_dataset_itself_is_accepted(client, tmp_path):
    response = _upload(client, "dataset.zip", _dataset_zip(tmp_path))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("where", ["absolute", "relative"])
def test_a_dataset_naming_a_local_file_outside_the_upload_is_refused(client, tmp_path, where):
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text(SECRET_CSV, encoding="utf-8")
    url = str(secret) if where == "absolute" else _in_upload_folder(secret)

    def point_at_secret(metadata, table):
        table["url"] = url

    response = _upload(client, "dataset.zip", _dataset_zip(tmp_path, point_at_secret))
    assert 400 <= response.status_code < 500
    detail = response.json()["detail"]
    assert detail.startswith("dataset.zip: dataset/Generic-metadata.json: ") and "outside the dataset's folder" in detail
    assert "Secretword" not in response.text


@pytest.mark.parametrize("url", ["/etc/hostname", "../../../../etc/hostname"])
def test_the_issues_own_file_reads_are_refused(client, tmp_path, url):
    def point(metadata, table):
        table["url"] = url

    response = _upload(client, "dataset.zip", _dataset_zip(tmp_path, point))
    assert 400 <= response.status_code < 500 and "outside the dataset's folder" in response.json()["detail"]
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").is_file() else ""
    if hostname:
        assert hostname not in response.text


class _Recording(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802
        self.requests.append(self.path)
        body = SECRET_CSV.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def internal_server():
    """A web server on 127.0.0.1 that records every request it gets."""
    _Recording.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recording)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recording.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("field", ["url", "tableSchema", "dialect", "dc:source", "@base", "foreign key"])
def test_a_dataset_naming_a_url_makes_the_server_fetch_nothing(client, tmp_path, internal_server, field):
    base, requests = internal_server

    def point_at_server(metadata, table):
        if field == "url":
            table["url"] = f"{base}/internal.csv"
        elif field == "tableSchema":
            table["tableSchema"] = f"{base}/schema.json"
        elif field == "dialect":
            table["dialect"] = f"{base}/dialect.json"
        elif field == "dc:source":
            metadata["dc:source"] = f"{base}/sources.bib"
        elif field == "@base":
            metadata["@context"] = ["http://www.w3.org/ns/csvw", {"@base": f"{base}/"}]
        else:
            table["tableSchema"]["foreignKeys"] = [{"columnReference": ["Language_ID"], "reference": {
                "resource": f"{base}/languages.csv", "columnReference": ["ID"]}}]

    response = _upload(client, "dataset.zip", _dataset_zip(tmp_path, point_at_server))
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["detail"].startswith("dataset.zip: ")
    assert "Secretword" not in response.text
    # the download of a dataset reads every file it names: nothing may have been fetched by then either
    assert requests == []


# -- item 2: Host and Origin --------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8000", "127.0.0.1:9999",
                                  "127.0.0.1.attacker.example:8000", "localhost@attacker.example:8000", ""])
def test_requests_addressed_to_another_host_are_refused(client, host):
    for response in (client.get("/", headers={"Host": host}),
                     client.post("/api/documents/text", json={"text": "xabar", "model": "tsez"},
                                 headers={"Host": host})):
        assert response.status_code == 400
        assert "this server answers only to 127.0.0.1, localhost, [::1] (port 8000)" in response.json()["detail"]


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST:8000"])
def test_the_servers_own_names_are_served(client, host):
    assert client.get("/api/models", headers={"Host": host}).status_code == 200


def test_a_server_on_every_interface_answers_to_ip_addresses_but_not_to_other_names(tmp_path, model_dir):
    app = create_app(_settings(tmp_path, model_dir).listening("0.0.0.0", 8000))
    with TestClient(app, base_url="http://192.168.1.20:8000") as lan:
        assert lan.get("/api/models").status_code == 200
        assert lan.get("/api/models", headers={"Host": "attacker.example:8000"}).status_code == 400


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "http://127.0.0.1:9999"},
    {"Origin": "https://127.0.0.1.evil.example:8000"},
    {"Origin": "null"},
    {"Referer": "http://evil.example/page.html"},
])
def test_state_changing_requests_from_another_sites_page_are_refused(client, tmp_path, headers):
    upload = _upload(client, "sea.flextext", FLEXTEXT.encode("utf-8"), headers)
    assert upload.status_code == 403 and "may not send requests that change anything" in upload.json()["detail"]
    pasted = client.post("/api/documents/text", json={"text": "xabar", "model": "tsez"}, headers=headers)
    assert pasted.status_code == 403
    document = client.post("/api/documents/text", json={"text": "xabar", "model": "tsez"}).json()
    glosses = [[m["gloss"] for m in w["morphemes"]] for w in document["sentences"][0]["words"]]
    accepted = client.post(f"/api/documents/{document['id']}/sentences/0/accept", json={"glosses": glosses},
                           headers=headers)
    assert accepted.status_code == 403
    assert not (tmp_path / "corrections.jsonl").exists()  # nothing was accepted
    # reading is not refused (and another site's page cannot read the answer without CORS)
    assert client.get(f"/api/documents/{document['id']}", headers=headers).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://127.0.0.1:8000"},
                                     {"Referer": "http://127.0.0.1:8000/"}])
def test_the_servers_own_page_and_other_clients_may_post(client, headers):
    response = _upload(client, "sea.flextext", FLEXTEXT.encode("utf-8"), headers)
    assert response.status_code == 200, response.text


# -- item 10: damaged zip files and readers that fail -------------------------------------------------
def _lying_zip(declared: int, compression: int) -> bytes:
    """A zip whose one member declares ``declared`` bytes (in both headers) but holds 1,000."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        archive.writestr("dataset/Generic-metadata.json", b"{" + b" " * 998 + b"}")
    data = bytearray(buffer.getvalue())
    local = data.index(b"PK\x03\x04")
    struct.pack_into("<I", data, local + 22, declared)          # local header: uncompressed size
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)        # central directory: uncompressed size
    return bytes(data)


@pytest.mark.parametrize("declared", [10, 5000])
@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_zip_member_whose_declared_size_lies_is_answered_400(client, declared, compression):
    data = _lying_zip(declared, compression)
    assert zipfile.ZipFile(io.BytesIO(data)).infolist()[0].file_size == declared
    response = _upload(client, "lies.zip", data)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("lies.zip: zip entry 'dataset/Generic-metadata.json' is damaged")


def test_a_truncated_zip_is_answered_400(client, tmp_path):
    response = _upload(client, "cut.zip", _dataset_zip(tmp_path)[:-30])
    assert response.status_code == 400 and response.json()["detail"].startswith("cut.zip: not a readable zip")


def test_a_reader_failing_on_an_upload_is_a_400_naming_the_users_file(client, monkeypatch):
    def broken_reader(path, *args, **kwargs):
        raise IndexError(f"{path}: list index out of range")

    monkeypatch.setattr(web_app, "read_document", broken_reader)
    response = _upload(client, "sea.flextext", FLEXTEXT.encode("utf-8"))
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("sea.flextext") and "IndexError" in detail and "autogloss-upload-" not in detail


# -- item 4: long input is glossed in bounded pieces, and does not hold the server --------------------
LONG_WORDS = 32_000


def _long_sentence(count: int = LONG_WORDS) -> str:
    cycle = ["ixiw", "raład", "xabar", "boqno."]
    return " ".join(cycle[i % len(cycle)] for i in range(count))


def test_a_long_sentence_is_glossed_in_windows_joined_back(model_dir):
    from autogloss.models import load_model
    from autogloss.models.base import WINDOW_WORDS

    glosser = load_model(model_dir)
    seen = []
    inner = glosser._gloss_chunk

    def spy(records):
        seen.append([len(r.transcription.split()) for r in records])
        return inner(records)

    glosser._gloss_chunk = spy
    text = _long_sentence(1000) + " unknownword"
    [output] = glosser.gloss_with_confidence([IGTRecord("long", text, translation="A long story.")])
    # the model never got more than a window of it
    assert max(size for chunk in seen for size in chunk) == WINDOW_WORDS
    assert sum(size for chunk in seen for size in chunk) == 1001
    # joined back: word for word what each word gets on its own (the majority model knows no context)
    alone = {word: out for word in set(text.split())
             for out in glosser.gloss_with_confidence([IGTRecord("w", word)])}
    assert output.record.gloss_words == [alone[w].record.glosses for w in text.split()]
    assert output.confidences == [alone[w].confidences[0] for w in text.split()]
    assert output.record.segmentation.split() == [alone[w].record.segmentation for w in text.split()]
    assert output.record.transcription == text and output.record.id == "long"


def test_a_sentence_of_window_size_and_short_records_are_glossed_as_before(model_dir):
    from autogloss.models import load_model
    from autogloss.models.base import WINDOW_WORDS

    glosser = load_model(model_dir)
    seen = []
    inner = glosser._gloss_chunk
    glosser._gloss_chunk = lambda records: seen.append(list(records)) or inner(records)
    records = [IGTRecord(f"s{i}", "ixiw raład boqno.") for i in range(1100)]
    records.append(IGTRecord("full", _long_sentence(WINDOW_WORDS)))
    outputs = list(glosser.gloss_with_confidence(records))
    assert [len(chunk) for chunk in seen] == [512, 512, 77]
    assert [r for chunk in seen for r in chunk] == records  # the records themselves, whole
    assert [o.record.id for o in outputs] == [r.id for r in records]


def test_a_32000_word_sentence_does_not_keep_a_second_request_waiting(tmp_path, model_dir):
    """The long request takes turns with the short one: the short one is
    answered while the long one still has windows to go."""
    from autogloss.models import load_model
    from autogloss.models.base import WINDOW_WORDS, WINDOWS_PER_TURN, _turns_of

    glosser = load_model(model_dir)
    turns = LONG_WORDS // (WINDOW_WORDS * WINDOWS_PER_TURN)
    events, longest = [], []
    second_answered = threading.Event()
    second: dict = {}
    inner = glosser._gloss_chunk

    def ask_second(client):
        second["response"] = client.post("/api/documents/text", json={"text": "xabar bayrno", "model": "tsez"})
        events.append("second answered")
        second_answered.set()

    def spy(records):
        longest.append(max(len(r.transcription.split()) for r in records))
        if len(records[0].transcription.split()) == 2:
            events.append("second glossed")
            return inner(records)
        events.append("long turn")
        long_turns = events.count("long turn")
        if long_turns == 1:
            threading.Thread(target=ask_second, args=(client,), daemon=True).start()
            for _ in range(6_000):  # until the second request waits for its turn (at most a minute)
                if _turns_of(glosser).waiting:
                    break
                threading.Event().wait(0.01)
        if long_turns == turns:  # the last turn of the long sentence waits for the other answer
            second_answered.wait(60)
        return inner(records)

    glosser._gloss_chunk = spy
    app = create_app(_settings(tmp_path, model_dir, hosts=("testserver",)), {"tsez": glosser})
    with TestClient(app) as client:
        text = _long_sentence()
        assert len(text) < 200_000  # within what the server accepts
        response = client.post("/api/documents/text", json={"text": text, "model": "tsez"})
        events.append("long answered")
    assert response.status_code == 200, response.text[:300]
    assert second["response"].status_code == 200
    [sentence] = response.json()["sentences"]
    assert len(sentence["words"]) == LONG_WORDS and sentence["words"][-1]["morphemes"][-1]["gloss"] == "PST.UNW"
    assert events.count("long turn") == turns
    # the short request got the model's next turn, and its answer came before the long one's
    assert events.index("second glossed") == 1
    assert events.index("second answered") < events.index("long answered")
    assert max(longest) <= WINDOW_WORDS  # the model never read more than a window at once


@pytest.mark.parametrize("name, content", [
    ("bytes.flextext", FLEXTEXT.encode("utf-8").replace("Sea story".encode(), b"Sea \xff\xfe story")),
    ("bytes.eaf", b'<?xml version="1.0" encoding="UTF-8"?>\n<ANNOTATION_DOCUMENT>\xff\xfe</ANNOTATION_DOCUMENT>'),
    ("deep.jsonl", b"[" * 100_000 + b"\n"),
    ("number.jsonl", b'{"id": "a", "transcription": "xabar", "glosses": ' + b"1" * 5001 + b"}\n"),
    ("surrogate.jsonl", b'{"id": "a", "transcription": "xabar \\ud800"}\n'),
    ("language.jsonl", b'{"id": "a", "transcription": "xabar", "language": {"name": "Tsez"}}\n'),
    ("lies.zip", _lying_zip(10, zipfile.ZIP_DEFLATED)),
])
def test_malformed_uploads_are_answered_4xx_with_a_message_naming_the_file(client, name, content):
    response = _upload(client, name, content)
    assert 400 <= response.status_code < 500, response.text[:300]
    assert response.json()["detail"].startswith(name)


@pytest.mark.parametrize("name, content", [
    # an empty field, common in real Toolbox files
    ("empty-ft.sfm", "\\ref 1\n\\tx xabar bayrno\n\\mb xabar b-ayr-n\n\\ge story III-bring-PST\n\\ft\n".encode()),
    # time slot ids of another form than ts<N>, as the ELAN schema allows
    ("slots.eaf", ELAN.replace('"ts', '"slot_').encode("utf-8")),
])
def test_valid_files_that_crashed_are_glossed_and_downloaded_in_every_format(client, name, content):
    response = _upload(client, name, content)
    assert response.status_code == 200, response.text[:300]
    key = response.json()["id"]
    for format in ("flextext", "toolbox", "elan", "cldf", "sigmorphon", "jsonl"):
        download = client.get(f"/api/documents/{key}/download", params={"format": format})
        assert download.status_code == 200, (format, download.text[:300])


def test_model_turns_are_granted_first_come_first_served():
    """A thread that hands the model back and asks again at once queues
    behind one already waiting (a plain lock would usually go back to it)."""
    from autogloss.models.base import _Turns

    turns, order = _Turns(), []

    def other():
        with turns:
            order.append("waiting thread")

    with turns:
        thread = threading.Thread(target=other)
        thread.start()
        while not turns.waiting:
            threading.Event().wait(0.001)
    with turns:
        order.append("same thread again")
    thread.join()
    assert order == ["waiting thread", "same thread again"]


@pytest.mark.parametrize("segmented", [False, True])
def test_the_neural_network_never_reads_more_than_a_window(segmented):
    pytest.importorskip("torch")
    from autogloss.models.base import WINDOW_WORDS
    from autogloss.models.neural import NeuralGlosser

    train = _records(TRAIN)
    glosser = NeuralGlosser.create(train, hidden=16, char_dim=8, language_dim=4, form_dim=8, label_dim=8,
                                   translation_hidden=8, layers=1, dropout=0.0)
    widths = []
    decode = glosser.decode

    def spy(batch, records):
        widths.extend(len((r.segmentation or r.transcription).split()) for r in records)
        return decode(batch, records)

    glosser.decode = spy
    count = WINDOW_WORDS + 7
    record = IGTRecord("long", _long_sentence(count), segmentation=" ".join(["b-oq-n"] * count) if segmented else None)
    [output] = glosser.gloss_with_confidence([record])
    assert sorted(widths) == [7, WINDOW_WORDS]  # both windows, in one batch
    assert len(output.record.gloss_words) == count and len(output.confidences) == count
