"""The post-editor's API, through FastAPI's test client (no browser)."""

import io
import json
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from autogloss.corrections import read_corrections  # noqa: E402
from autogloss.interlinear.flextext import FlexTextDocument  # noqa: E402
from autogloss.web import ServerSettings, create_app  # noqa: E402

from interlinear_fixtures import FLEXTEXT  # noqa: E402


@pytest.fixture
def client(tmp_path, model_dir):
    # the test client addresses the server as "testserver"
    settings = ServerSettings({"tsez": model_dir}, tmp_path / "corrections.jsonl", max_upload_bytes=20_000,
                              hosts=("testserver",))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _gloss_text(client, text="Ixiw raład boqno.\tA big sea formed.\nxabar bayrno"):
    response = client.post("/api/documents/text", json={"text": text, "model": "tsez"})
    assert response.status_code == 200, response.text
    return response.json()


def test_page_and_assets_are_served_by_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and "autogloss" in page.text and "/static/app.js" in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # nothing fetched from elsewhere
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/api/models").json()["models"] == ["tsez"]


def test_pasted_text_is_glossed_with_confidences(client):
    document = _gloss_text(client)
    first, second = document["sentences"]
    assert [w["form"] for w in first["words"]] == ["Ixiw", "raład", "boqno."]
    assert ["-".join(m["gloss"] for m in w["morphemes"]) for w in first["words"]] == [
        "big", "sea", "III-become-PST.UNW"]
    # an unanalysed word takes the model's segmentation: one cell per morpheme
    assert [m["form"] for m in first["words"][2]["morphemes"]] == ["b-", "oq", "-n"]
    assert all(m["state"] == "guess" and m["editable"] and 0 <= m["confidence"] <= 1
               for w in first["words"] for m in w["morphemes"])
    assert first["translation"] == "A big sea formed."
    cells = sum(len(w["morphemes"]) for sentence in document["sentences"] for w in sentence["words"])
    assert document["summary"] == {"filled": cells, "kept": 0, "skipped": 0} and cells == 9


def test_accepting_writes_the_correction_and_the_download(client, tmp_path):
    document = _gloss_text(client)
    glosses = [[m["gloss"] for m in w["morphemes"]] for w in document["sentences"][0]["words"]]
    glosses[1][0] = "open  sea"  # a multi-word gloss becomes open.sea (Leipzig rule 4)
    response = client.post(f"/api/documents/{document['id']}/sentences/0/accept", json={"glosses": glosses})
    assert response.status_code == 200, response.text
    accepted = response.json()
    assert accepted["accepted"] and accepted["words"][1]["morphemes"][0] == {
        "form": "raład", "gloss": "open.sea", "state": "human", "editable": False,
        "confidence": accepted["words"][1]["morphemes"][0]["confidence"]}
    [line] = (tmp_path / "corrections.jsonl").read_text(encoding="utf-8").splitlines()
    entry = json.loads(line)
    assert entry["glosses"] == "big open.sea III-become-PST.UNW" and entry["document"] == "pasted text"
    assert entry["edited"] == [[2, 1, "sea", "open.sea"]]
    assert [r.glosses for r in read_corrections(tmp_path / "corrections.jsonl")] == [entry["glosses"]]
    flex = client.get(f"/api/documents/{document['id']}/download", params={"format": "flextext"})
    assert flex.status_code == 200 and 'filename="pasted_text.autogloss.flextext"' in flex.headers["content-disposition"]
    path = tmp_path / "down.flextext"
    path.write_bytes(flex.content)
    states = [[s.state.value for _, _, s in sentence.slots()] for sentence in FlexTextDocument.read(path).sentences]
    assert states == [["human"] * 5, ["guess"] * 4]
    for format in ("toolbox", "elan", "sigmorphon", "jsonl", "cldf"):
        response = client.get(f"/api/documents/{document['id']}/download", params={"format": format})
        assert response.status_code == 200, (format, response.text)
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert sorted(names) == ["Generic-metadata.json", "examples.csv", "languages.csv"]


def test_uploaded_flextext_keeps_human_glosses_locked(client, tmp_path):
    response = client.post("/api/documents/upload", data={"model": "tsez"},
                           files={"file": ("sea.flextext", FLEXTEXT.encode("utf-8"), "application/xml")})
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["summary"] == {"filled": 5, "kept": 7, "skipped": 0}
    first = document["sentences"][0]["words"]
    assert first[1]["morphemes"][0] == {"form": "raład", "gloss": "open.sea", "state": "human",
                                        "editable": False, "confidence": None}
    # a client that sends other glosses for approved morphemes changes nothing there
    glosses = [["x"] * len(w["morphemes"]) for w in first]
    accepted = client.post(f"/api/documents/{document['id']}/sentences/0/accept", json={"glosses": glosses}).json()
    assert accepted["words"][1]["morphemes"][0]["gloss"] == "open.sea"
    assert accepted["words"][2]["morphemes"][2]["gloss"] == "PST"
    assert accepted["words"][0]["morphemes"][0]["gloss"] == "x"


@pytest.mark.parametrize("request_json, message", [
    ({"text": "a", "model": "nope"}, "unknown model 'nope'"),
    ({"text": "a", "model": "tsez", "path": "/etc/passwd"}, "Extra inputs are not permitted"),
    ({"text": 5, "model": "tsez"}, "text"),
    ({"text": "\n\n", "model": "tsez"}, "no sentence"),
])
def test_invalid_requests_get_clear_messages(client, request_json, message):
    response = client.post("/api/documents/text", json=request_json)
    assert response.status_code in (400, 422) and message in response.json()["detail"]


def test_limits_and_unknown_documents(client):
    too_big = client.post("/api/documents/upload", data={"model": "tsez"},
                          files={"file": ("big.flextext", b"x" * 200_000, "application/xml")})
    assert too_big.status_code == 413 and "limit is" in too_big.json()["detail"]
    odd = client.post("/api/documents/upload", data={"model": "tsez"}, files={"file": ("a.exe", b"MZ", "x")})
    assert odd.status_code == 415
    broken = client.post("/api/documents/upload", data={"model": "tsez"},
                         files={"file": ("bad.flextext", b"<document><x>", "application/xml")})
    assert broken.status_code == 400 and broken.json()["detail"].startswith("bad.flextext:1:")
    assert client.get("/api/documents/" + "0" * 32).status_code == 404
    assert client.get("/api/documents/../../etc").status_code == 404
    document = _gloss_text(client)
    wrong_shape = client.post(f"/api/documents/{document['id']}/sentences/0/accept", json={"glosses": [["a"]]})
    assert wrong_shape.status_code == 422 and "the sentence has 3" in wrong_shape.json()["detail"]
    bad_format = client.get(f"/api/documents/{document['id']}/download", params={"format": "../x"})
    assert bad_format.status_code == 422


def test_serve_refuses_unusable_models_in_one_line(tmp_path):
    from conftest import run_cli

    done = run_cli("serve", "--model", f"mine={tmp_path / 'missing'}", "--corrections", tmp_path / "c.jsonl")
    assert done.returncode == 1 and "not a model directory" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_zipped_cldf_dataset_goes_in_and_out(client, tmp_path):
    from autogloss.formats import write_records
    from autogloss.records import IGTRecord

    write_records([IGTRecord("e1", "Ixiw raład boqno.", glosses="big ? III-become-PST.UNW",
                             segmentation="ixiw raład b-oq-n")], tmp_path / "dataset", "cldf")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in (tmp_path / "dataset").iterdir():
            archive.write(path, f"dataset/{path.name}")
    response = client.post("/api/documents/upload", data={"model": "tsez"},
                           files={"file": ("dataset.zip", buffer.getvalue(), "application/zip")})
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["summary"] == {"filled": 1, "kept": 4, "skipped": 0}
    download = client.get(f"/api/documents/{document['id']}/download", params={"format": "cldf"})
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    examples = archive.read("examples.csv").decode("utf-8")
    assert "big\tsea\tIII-become-PST.UNW" in examples and examples.splitlines()[1].endswith(",2.1")
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as bad_archive:
        bad_archive.writestr("../escape-metadata.json", "{}")
    refused = client.post("/api/documents/upload", data={"model": "tsez"},
                          files={"file": ("evil.zip", evil.getvalue(), "application/zip")})
    assert refused.status_code == 400 and "outside the archive" in refused.json()["detail"]


def test_a_zipped_dataset_whose_metadata_is_called_metadata_json_is_read(client):
    # issue 15 item 9, in the post-editor: cldfbench datasets name it metadata.json
    dataset = Path(__file__).parent / "realfiles" / "cldf" / "apalai-cut"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in dataset.iterdir():
            archive.write(path, f"cldf/{path.name}")
    response = client.post("/api/documents/upload", data={"model": "tsez"},
                           files={"file": ("apalai.zip", buffer.getvalue(), "application/zip")})
    assert response.status_code == 200, response.text
    assert len(response.json()["sentences"]) == 8
