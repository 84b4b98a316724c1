"""The post-editor as a person uses it: a real headless Chromium against a real
`autogloss serve`. Paste a sentence, gloss, correct one gloss, accept,
download, then check the downloaded file and the corrections file.

Needs Debian's chromium and chromium-driver (.ci/run installs them); without
them the test is skipped, except under CI, where that is a failure. Set
AUTOGLOSS_SCREENSHOT=docs/post-editor.png to save the README's screenshot.
"""

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.post_editor_load import running_server  # noqa: E402

from autogloss.formats.sigmorphon import read_sigmorphon  # noqa: E402
from autogloss.interlinear.flextext import FlexTextDocument  # noqa: E402
from autogloss.models import MajorityGlosser  # noqa: E402

from conftest import TRAIN  # noqa: E402
from interlinear_fixtures import FLEXTEXT  # noqa: E402

CHROMIUM, CHROMEDRIVER = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver") or "/usr/bin/chromedriver"
# "raład" glossed three ways: the model is unsure of it, and the page must say so.
AMBIGUOUS = "\n\\t Xabar raład\n\\m xabar raład\n\\g story lake\n\n" \
            "\\t Xabar raład\n\\m xabar raład\n\\g story ocean\n"


def _driver(download_dir: Path):
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        message = "chromium and chromedriver are needed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1200,1000", "--lang=en"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(download_dir),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    # headless Chromium writes downloads only where it is told to
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)})
    return driver


def _wait_for_file(directory: Path, suffix: str, timeout: float = 15) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in directory.iterdir() if p.name.endswith(suffix)]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} file downloaded into {directory}: {list(directory.iterdir())}")


def test_gloss_edit_accept_and_download_in_a_real_browser(tmp_path):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    train = tmp_path / "train.txt"
    train.write_text(TRAIN + AMBIGUOUS, encoding="utf-8")
    MajorityGlosser.train(read_sigmorphon(train)).save_pretrained(tmp_path / "tsez")
    corrections = tmp_path / "corrections.jsonl"
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    flextext = tmp_path / "sea.flextext"
    flextext.write_text(FLEXTEXT, encoding="utf-8")
    bad = tmp_path / "broken.flextext"
    bad.write_text("<document>\n<interlinear-text>\n", encoding="utf-8")

    with running_server([f"tsez={tmp_path / 'tsez'}"], corrections) as url:
        driver = _driver(downloads)
        try:
            # the page re-renders a sentence when it is accepted: retry on replaced elements
            wait = WebDriverWait(driver, 20, ignored_exceptions=(StaleElementReferenceException,))
            driver.get(url)
            # the packaged model is offered first when installed; this test glosses with its own
            wait.until(lambda d: "tsez" in [o.text for o in Select(d.find_element(By.ID, "model")).options])
            Select(driver.find_element(By.ID, "model")).select_by_visible_text("tsez")

            # A broken upload: the server's message appears in the page.
            driver.find_element(By.ID, "file").send_keys(str(bad))
            driver.find_element(By.ID, "gloss-button").click()
            error = wait.until(EC.visibility_of_element_located((By.ID, "error")))
            assert "broken.flextext:3: not well-formed XML" in error.text
            driver.execute_script("document.getElementById('file').value = '';")

            text = driver.find_element(By.ID, "text")
            for line in ("Ixiw raład boqno.", "Žek’a xabar bayrno.", "Xabar raład boqno."):
                text.send_keys(line + "\n")
            driver.find_element(By.ID, "gloss-button").click()
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "article.sentence")) == 3)
            assert not driver.find_element(By.ID, "error").is_displayed()
            first = driver.find_elements(By.CSS_SELECTOR, "article.sentence")[0]
            # unanalysed words take the model's morphemes, each glossed on its own
            assert [m.text for m in first.find_elements(By.CSS_SELECTOR, ".mform")] == ["", "", "b-", "oq", "-n"]
            cells = first.find_elements(By.CSS_SELECTOR, "input.gloss")
            assert [c.get_attribute("value") for c in cells] == ["big", "sea", "III", "become", "PST.UNW"]
            # the unsure guess is highlighted, the sure ones are not
            assert [("low" in c.get_attribute("class").split()) for c in cells] == [False, True, False, False, False]
            all_cells = driver.find_elements(By.CSS_SELECTOR, "input.gloss")
            summary = driver.find_element(By.ID, "summary").text
            assert f"{len(all_cells)} filled, 0 kept, 0 skipped" in summary

            cells[1].clear()
            cells[1].send_keys("open sea")
            first.find_element(By.CSS_SELECTOR, "button.accept").click()
            wait.until(lambda d: "accepted" in d.find_elements(By.CSS_SELECTOR, "article.sentence")[0]
                       .get_attribute("class"))
            first = driver.find_elements(By.CSS_SELECTOR, "article.sentence")[0]
            assert first.find_elements(By.CSS_SELECTOR, "input.gloss")[1].get_attribute("value") == "open.sea"
            assert all(c.get_attribute("readonly") for c in first.find_elements(By.CSS_SELECTOR, "input.gloss"))
            # a correction in progress on the third sentence, for the screenshot
            third = driver.find_elements(By.CSS_SELECTOR, "article.sentence")[2]
            third.find_elements(By.CSS_SELECTOR, "input.gloss")[0].clear()
            third.find_elements(By.CSS_SELECTOR, "input.gloss")[0].send_keys("tale")

            screenshot = os.environ.get("AUTOGLOSS_SCREENSHOT")
            driver.save_screenshot(str(tmp_path / "post-editor.png"))
            if screenshot:
                shutil.copy(tmp_path / "post-editor.png", screenshot)

            Select(driver.find_element(By.ID, "download-format")).select_by_value("flextext")
            driver.find_element(By.ID, "download-button").click()
            downloaded = _wait_for_file(downloads, ".flextext")

            # A FLEx text with a person's glosses: those stay locked in the page.
            driver.find_element(By.ID, "file").send_keys(str(flextext))
            driver.find_element(By.ID, "gloss-button").click()
            wait.until(lambda d: "sea.flextext" in d.find_element(By.ID, "summary").text)
            assert "5 filled, 7 kept, 0 skipped" in driver.find_element(By.ID, "summary").text
            cells = driver.find_elements(By.CSS_SELECTOR, "article.sentence")[0].find_elements(
                By.CSS_SELECTOR, "input.gloss")
            assert [(c.get_attribute("value"), bool(c.get_attribute("readonly"))) for c in cells] == [
                ("big", False), ("open.sea", True), ("OLD", False), ("become", False), ("PST", True)]
        finally:
            driver.quit()

    assert downloaded.name == "pasted_text.autogloss.flextext"
    document = FlexTextDocument.read(downloaded)
    records = document.records()
    assert [r.glosses for r in records] == ["big open.sea III-become-PST.UNW", "man-ERG story III-bring-PST.UNW",
                                            "story sea III-become-PST.UNW"]
    assert records[0].segmentation == "Ixiw raład b-oq-n"
    states = [[slot.state.value for _, _, slot in s.slots()] for s in document.sentences]
    assert states == [["human"] * 5, ["guess"] * 6, ["guess"] * 5]  # the unsaved edit went nowhere
    statuses = [item.get("analysisStatus") for item in document.tree.iter("item") if item.get("type") == "gls"
                and item.getparent().tag in ("word", "morph")]
    assert statuses == ["humanApproved"] * 5 + ["guessByStatisticalAnalysis"] * 11
    [line] = corrections.read_text(encoding="utf-8").splitlines()
    entry = json.loads(line)
    assert entry["transcription"] == "Ixiw raład boqno." and entry["glosses"] == "big open.sea III-become-PST.UNW"
    assert entry["segmentation"] == "Ixiw raład b-oq-n"
    assert entry["edited"] == [[2, 1, "sea", "open.sea"]] and entry["document"] == "pasted text"


# Pasted text whose "raład" the model glosses "sea"; the linguist says "lake".
LOOP_TEXT = ("Ixiw raład boqno.", "Žek’a raład bayrno.", "Ixiw raład.", "Xabar raład boqno.", "Raład xabar.")


def _tiny_neural_model(folder: Path) -> Path:
    from autogloss.models.neural import TrainingSettings, train_glosser

    (folder / "train.txt").write_text(TRAIN, encoding="utf-8")
    records = list(read_sigmorphon(folder / "train.txt"))
    tiny = {"hidden": 16, "char_dim": 8, "language_dim": 4, "form_dim": 8, "label_dim": 8, "translation_hidden": 8,
            "layers": 1, "dropout": 0.0}
    train_glosser(records + [r.replace(segmentation=None) for r in records], [], folder / "tsez",
                  TrainingSettings(epochs=2, batch_size=4), network_options=tiny)
    return folder / "tsez"


def test_learn_from_my_corrections_in_a_real_browser(tmp_path):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    model = _tiny_neural_model(tmp_path)
    corrections = tmp_path / "corrections.jsonl"
    # the server's start-up, like every wait below, ends as soon as it is done (a loaded machine is slow)
    with running_server([f"tsez={model}"], corrections, ["--learn-epochs", "2"], timeout=1800) as url:
        driver = _driver(tmp_path)
        try:
            # generous limits: each wait ends as soon as the page shows what it waits for
            wait = WebDriverWait(driver, 900, poll_frequency=0.2,
                                 ignored_exceptions=(StaleElementReferenceException, IndexError))
            driver.get(url)
            wait.until(lambda d: "tsez" in [o.text for o in Select(d.find_element(By.ID, "model")).options])
            Select(driver.find_element(By.ID, "model")).select_by_visible_text("tsez")
            driver.find_element(By.ID, "text").send_keys("\n".join(LOOP_TEXT))
            driver.find_element(By.ID, "gloss-button").click()
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "article.sentence")) == 5)

            def card(index):
                return driver.find_element(By.CSS_SELECTOR, f'article.sentence[data-index="{index}"]')

            def cells(index):
                return [(c.get_attribute("value"), c.get_attribute("class").split()[1], bool(c.get_attribute("readonly")))
                        for c in card(index).find_elements(By.CSS_SELECTOR, "input.gloss")]

            assert cells(3)[1] == ("sea", "state-guess", False)
            # least confident first: the page shows the server's order, the same function as the worklist's
            Select(driver.find_element(By.ID, "order")).select_by_value("least-confident")
            order = driver.execute_script("return state.doc.least_confident")
            shown = [int(a.get_attribute("data-index")) for a in driver.find_elements(By.CSS_SELECTOR, "article.sentence")]
            assert shown == order and sorted(order) == [0, 1, 2, 3, 4]
            Select(driver.find_element(By.ID, "order")).select_by_value("document")

            def raład(index):  # the gloss of "raład", word 2 of sentences 1-4 (a word before it may have two morphemes)
                return card(index).find_element(By.CSS_SELECTOR, 'input.gloss[data-word="1"][data-morph="0"]')

            for index in range(3):
                cell = raład(index)
                cell.clear()
                cell.send_keys("lake")
                card(index).find_element(By.CSS_SELECTOR, "button.accept").click()
                wait.until(lambda d: "accepted" in card(index).get_attribute("class"))
            wait.until(lambda d: "you changed 3 of the" in d.find_element(By.ID, "effort").text)
            accepted = [cells(index) for index in range(3)]
            assert all(raład(index).get_attribute("value") == "lake" for index in range(3))
            assert all(readonly for cell in accepted for _, _, readonly in cell)
            # a correction typed but not accepted yet survives the re-glossing
            typed = card(4).find_elements(By.CSS_SELECTOR, "input.gloss")[-1]
            typed.clear()
            typed.send_keys("tale")

            driver.find_element(By.ID, "learn-button").click()
            # the job's progress shows while it runs; on a loaded machine it may take many minutes
            WebDriverWait(driver, 3600, poll_frequency=0.5, ignored_exceptions=(StaleElementReferenceException,)).until(
                lambda d: d.find_element(By.ID, "learning-text").text.startswith(
                    ("Learned:", "Learning from the corrections failed")))
            message = driver.find_element(By.ID, "learning-text").text
            assert message.startswith("Learned: learned-1 is ready"), message
            wait.until(lambda d: Select(d.find_element(By.ID, "model")).first_selected_option.text == "learned-1")
            assert "learned-1" in driver.find_element(By.ID, "summary").text
            assert [cells(index) for index in range(3)] == accepted  # accepted sentences: unchanged
            assert raład(3).get_attribute("value") == "lake"  # a guess, now the new model's
            assert "state-guess" in raład(3).get_attribute("class") and not raład(3).get_attribute("readonly")
            assert card(4).find_elements(By.CSS_SELECTOR, "input.gloss")[-1].get_attribute("value") == "tale"
            assert not driver.find_element(By.ID, "error").is_displayed()
        finally:
            driver.quit()
    assert (tmp_path / "corrections.models" / "learned-1" / "config.json").is_file()
    assert len(corrections.read_text(encoding="utf-8").splitlines()) == 3
