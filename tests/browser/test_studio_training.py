"""Training and the auto-labeling wizard in the studio page, in a real headless Chromium,
against a real spanledger server with its workers: a tiny real model (onehot-char) is trained
from the page, its evaluation read on the model page, a training cancelled, and the wizard run
to suggestions that the API then holds. SQLite only. The browser: conftest.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from spanledger.jobs.autolabel import AutoLabelWorker
from tests.browser.test_studio import open_page, screenshot, shown, wait
from tests.conftest import LiveServer, live_server
from tests.http.test_training_api import labeled_project
from tests.training_data import documents

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
except ImportError:  # reported by the `driver` fixture
    pass

QUOTA = 8  # text records a month: room for one small job, not for every document
ODD = "The contract between Globex and Alice Smith was signed on Monday."
UNLABELED = [d for d, _ in documents(25)[20:25]]  # doc020..doc024, one text record each


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """With its workers, so that trainings and auto-labeling jobs really run (15 epochs: a
    model that finds the entities of tests.training_data)."""
    yield from live_server("sqlite", tmp_path_factory.mktemp("studio-training"), work=True, training_max_epochs=15,
                           autolabel_batch_documents=2)


@pytest.fixture(scope="module")
def project(server: LiveServer) -> Iterator[tuple[str, str]]:
    """(key, project): 21 labeled documents (Test: every fifth, and "odd") and 5 unlabeled ones, in a
    resource whose month holds QUOTA text records."""
    app = server.container.app
    _, key, _ = app.create_resource("trainer", "test", monthly_text_records=QUOTA)
    with server.api(key) as api:
        name = labeled_project(api, count=20, entities=("Person", "Org"))
        body = {"documents": [{"name": d.name, "text": d.text} for d in UNLABELED]}
        assert api.post(f"/{name}/documents/:batch", json=body).status_code == 200
        # A test document with a label the model will not find: an error on the model page.
        api.put(f"/{name}/documents/odd", json={"text": ODD, "dataset": "Test"})
        add = [{"category": c, "offset": ODD.index(t), "length": len(t)}
               for c, t in (("Org", "Globex"), ("Person", "Alice Smith"), ("Org", "Monday"))]
        assert api.post(f"/{name}/documents/odd/:save-labels", json={"add": add}).status_code == 200
    yield key, name


def pct(value: float) -> str:
    """A score as the page writes it."""
    return f"{value * 100:.1f}%"


def start_training(chrome, label: str, test_share: int | None = None) -> None:
    """Starts a training of onehot-char: on the manual split, or on a percentage split keeping
    `test_share` percent of the documents for testing."""
    card = shown(chrome, "#training-section")
    wait(chrome, lambda d: "onehot-char" in card.find_element(By.NAME, "trainingConfigVersion").text)
    field = card.find_element(By.NAME, "modelLabel")
    field.clear()
    field.send_keys(label)
    assert Select(card.find_element(By.NAME, "trainingConfigVersion")).first_selected_option.text == "latest"
    Select(card.find_element(By.NAME, "trainingConfigVersion")).select_by_value("onehot-char")
    if test_share is None:
        card.find_element(By.CSS_SELECTOR, "input[type=radio][value=manual]").click()
    else:
        assert card.find_element(By.CSS_SELECTOR, "input[type=radio][value=percentage]").is_selected()
        share = card.find_element(By.NAME, "testingSplitPercentage")
        assert share.is_displayed() and share.get_attribute("value") == "20"
        share.clear()
        share.send_keys(str(test_share))
    card.find_element(By.CSS_SELECTOR, "button.primary").click()


def test_train_in_the_page_then_read_the_model_page(server, driver, project):
    key, name = project
    open_page(driver, server, key, f"/p/{name}")
    start_training(driver, "m1")
    bar = shown(driver, "#training-job progress")
    assert bar.get_attribute("aria-label") == "Training progress"
    wait(driver, lambda d: int(bar.get_attribute("value")) > 0, timeout=120, poll=0.1)  # moving
    driver.execute_script("document.getElementById('training-section').scrollIntoView()")
    screenshot(driver, "training")
    wait(driver, lambda d: d.find_element(By.ID, "training-job").get_attribute("data-status") == "succeeded",
         timeout=240, poll=0.5)
    assert driver.find_element(By.ID, "training-status").text == "Model “m1” trained."
    assert bar.get_attribute("value") == "100"
    with server.api(key) as api:
        (job,) = api.get(f"/{name}/train/jobs").json()["value"]
        assert job["status"] == "succeeded" and job["result"]["trainingConfigVersion"] == "onehot-char"
        summary = api.get(f"/{name}/models/m1/evaluation/summary-result").json()
    assert summary["evaluationOptions"]["kind"] == "manual"

    driver.find_element(By.CSS_SELECTOR, "#training-job a.model-link").click()
    table = shown(driver, "table.entity-scores")
    scores = summary["customEntityRecognitionEvaluation"]
    shown_rows = {r.get_attribute("data-entity"): [c.text for c in r.find_elements(By.TAG_NAME, "td")][:3]
                  for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")}
    assert shown_rows == {entity: [pct(s["precision"]), pct(s["recall"]), pct(s["f1"])]
                          for entity, s in scores["entities"].items()}
    assert driver.find_element(By.ID, "micro-f1").text == pct(scores["microF1"])
    matrix = driver.find_element(By.CSS_SELECTOR, "table.confusion")
    def said(name: str) -> str:
        return "(none)" if name == "$none" else name

    for expected, row in scores["confusionMatrix"].items():
        for predicted, cell in row.items():
            header = [th.text for th in matrix.find_elements(By.CSS_SELECTOR, "thead th")].index(said(predicted))
            line = next(r for r in matrix.find_elements(By.CSS_SELECTOR, "tbody tr")
                        if r.find_element(By.TAG_NAME, "th").text == said(expected))
            assert line.find_elements(By.CSS_SELECTOR, "th, td")[header].text == str(int(cell["rawValue"]))
    wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#doc-errors > div").get_attribute("aria-busy") == "false")
    errors = driver.find_element(By.ID, "doc-errors").text
    assert "missed Org “Monday”" in errors
    screenshot(driver, "model")

    # The models page lists it with its overall scores.
    driver.execute_script("location.hash = arguments[0]", f"#/p/{name}/models")
    row = shown(driver, "table.models tbody tr")
    assert row.find_element(By.CSS_SELECTOR, "a.model-link").text == "m1"
    assert row.find_elements(By.TAG_NAME, "td")[-1].text == pct(scores["microF1"])


def test_cancel_a_training_from_the_page(server, driver, project):
    key, name = project
    open_page(driver, server, key, f"/p/{name}")
    start_training(driver, "m2")
    cancel = shown(driver, "#cancel-training")
    cancel.click()
    wait(driver, lambda d: d.find_element(By.ID, "training-job").get_attribute("data-status") == "cancelled",
         timeout=120, poll=0.3)
    assert driver.find_element(By.ID, "training-status").text == "Training of “m2” was cancelled."
    with server.api(key) as api:
        jobs = {j["result"]["modelLabel"]: j for j in api.get(f"/{name}/train/jobs").json()["value"]}
        assert jobs["m2"]["status"] == "cancelled"
        assert [m["label"] for m in api.get(f"/{name}/models").json()["value"]] == ["m1"]


def test_the_auto_labeling_wizard_to_suggestions_on_the_chosen_documents(server, driver, project):
    key, name = project
    open_page(driver, server, key, f"/p/{name}")
    shown(driver, "#autolabel-link").click()

    # (a) the model, its scores shown.
    model = shown(driver, "table.wizard-models tbody tr")
    assert model.find_element(By.CSS_SELECTOR, "input[type=radio]").is_selected()
    with server.api(key) as api:
        micro = api.get(f"/{name}/models/m1/evaluation/summary-result").json()["customEntityRecognitionEvaluation"]
        preview = api.post(f"/{name}/autolabel/:preview", json={"modelLabel": "m1", "filter": {}}).json()
    assert model.find_elements(By.TAG_NAME, "td")[3].text == pct(micro["microF1"])
    driver.find_element(By.ID, "wizard-next").click()

    # (b) the entities: all selected, with label counts, precision and recall.
    shown(driver, "table.wizard-entities")
    rows = driver.find_elements(By.CSS_SELECTOR, "table.wizard-entities tbody tr")
    assert [r.find_element(By.TAG_NAME, "th").text for r in rows] == [e["category"] for e in preview["entities"]]
    for r, e in zip(rows, preview["entities"], strict=True):
        assert r.find_element(By.CSS_SELECTOR, "input").is_selected()
        assert [c.text for c in r.find_elements(By.TAG_NAME, "td")][1:] == [
            str(e["labels"]), pct(e["precision"]), pct(e["recall"])]
    driver.find_element(By.ID, "wizard-next").click()

    # (c) the documents: the unlabeled ones selected; the total follows the selection.
    shown(driver, "table.wizard-docs")
    checked = [b.get_attribute("data-document") for b in driver.find_elements(By.CSS_SELECTOR, "table.wizard-docs input")
               if b.is_selected()]
    assert checked == [d.name for d in UNLABELED]
    driver.find_element(By.CSS_SELECTOR, "input[data-document=doc024]").click()
    chosen = [d.name for d in UNLABELED[:4]]
    with server.api(key) as api:
        listed = {d["name"]: d for d in api.get(f"/{name}/documents", params={"maxpagesize": 100}).json()["value"]}
    records = sum(listed[n]["textRecords"] for n in chosen)
    total = driver.find_element(By.CSS_SELECTOR, ".selection-total")
    assert total.text == f"4 documents selected, {records} text records." and total.get_attribute("data-records") == str(
        records)
    driver.find_element(By.ID, "wizard-next").click()

    # (d) the review: what it covers, and the quota left this month, as the quota route says.
    shown(driver, "#start-autolabel")
    with server.api(key) as api:
        quota = api.get("/../quota").json()
    figures = {dd.get_attribute("data-item"): dd.text for dd in driver.find_elements(By.CSS_SELECTOR, ".review-figures dd")}
    assert figures["Model"] == "m1" and figures["Documents"] == "4" and figures["Text records"] == str(records)
    assert figures["Entities"] == ", ".join(e["category"] for e in preview["entities"])
    assert figures["Quota left this month"].startswith(f"{quota['remaining']} of {QUOTA} text records")
    screenshot(driver, "wizard")

    # (e) start, the progress, the result.
    driver.find_element(By.ID, "start-autolabel").click()
    shown(driver, "#autolabel-job progress")
    wait(driver, lambda d: d.find_element(By.ID, "autolabel-job").get_attribute("data-status") == "succeeded",
         timeout=120, poll=0.3)
    words = driver.find_element(By.ID, "autolabel-status").text
    with server.api(key) as api:
        (job,) = api.get(f"/{name}/autolabel/jobs").json()["value"]
        assert job["status"] == "succeeded" and job["result"]["documents"] == 4
        found = {n: api.get(f"/{name}/documents/{n}").json()["suggestions"] for n in [*chosen, "doc024"]}
        assert api.get("/../quota").json()["remaining"] == quota["remaining"] - records
    assert found["doc024"] == []  # left out of the selection
    suggested = sum(len(found[n]) for n in chosen)
    assert suggested == job["result"]["suggestions"] > 0
    assert words == f"Done: {suggested} suggestion{'s' if suggested != 1 else ''} on 4 documents."

    # The link opens the documents filtered to auto-labels pending.
    driver.find_element(By.ID, "review-pending").click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "a.doc-link"))
    assert driver.find_element(By.CSS_SELECTOR, "input[type=radio][value=pending]").is_selected()
    assert {a.text for a in driver.find_elements(By.CSS_SELECTOR, "a.doc-link")} == {n for n in chosen if found[n]}


def test_refusals_in_words_quota_and_no_model(server, driver, project):
    key, name = project
    with server.api(key) as api:
        before = api.get("/../quota").json()
        empty = api.new_project()
        api.put(f"/{empty}/documents/note", json={"text": "Nothing to see."})
    open_page(driver, server, key, f"/p/{name}/autolabel")
    shown(driver, "#wizard-next").click()
    shown(driver, "table.wizard-entities")
    driver.find_element(By.ID, "wizard-next").click()
    shown(driver, "table.wizard-docs")
    next(b for b in driver.find_elements(By.CSS_SELECTOR, ".wizard .toolbar button") if b.text == "All").click()
    assert driver.find_element(By.CSS_SELECTOR, ".selection-total").text == "26 documents selected, 26 text records."
    driver.find_element(By.ID, "wizard-next").click()
    refusal = shown(driver, ".wizard .refusal")
    assert refusal.text.startswith(f"This job needs 26 text records, but only {before['remaining']} text records")
    assert "403" not in refusal.text and "QuotaExceeded" not in refusal.text
    assert driver.find_element(By.ID, "start-autolabel").get_attribute("disabled") is not None

    open_page(driver, server, key, f"/p/{empty}/autolabel")
    refusal = shown(driver, ".wizard .refusal")
    assert "has no trained model yet" in refusal.text and "404" not in refusal.text
    with server.api(key) as api:
        assert api.get("/../quota").json()["remaining"] == before["remaining"]


def test_cancel_an_auto_labeling_job_from_the_wizard(server, driver, project, monkeypatch):
    """The worker is held before its first batch until the cancel is recorded: the job is
    running when Cancel is clicked, whatever the machine's speed, and stops after that batch."""
    key, name = project
    gate = threading.Event()
    batch = AutoLabelWorker._batch

    def held(worker, job, attempt, tagger):
        gate.wait(60)
        return batch(worker, job, attempt, tagger)

    monkeypatch.setattr(AutoLabelWorker, "_batch", held)
    with server.api(key) as api:
        before = api.get("/../quota").json()
    chosen = [d.name for d in UNLABELED[:4]]  # the worker does them 2 at a time (autolabel_batch_documents)
    try:
        open_page(driver, server, key, f"/p/{name}/autolabel")
        shown(driver, "#wizard-next").click()
        shown(driver, "table.wizard-entities")
        driver.find_element(By.ID, "wizard-next").click()
        shown(driver, "table.wizard-docs")
        next(b for b in driver.find_elements(By.CSS_SELECTOR, ".wizard .toolbar button") if b.text == "None").click()
        for n in chosen:
            driver.find_element(By.CSS_SELECTOR, f"input[data-document={n}]").click()
        driver.find_element(By.ID, "wizard-next").click()
        shown(driver, "#start-autolabel").click()
        job_area = shown(driver, "#autolabel-job")
        wait(driver, lambda d: job_area.get_attribute("data-status") == "running", timeout=30, poll=0.1)
        assert driver.find_element(By.ID, "autolabel-status").text.startswith("Running: 0 of 4 documents done")
        shown(driver, "#cancel-autolabel").click()
        with server.api(key) as api:
            (job,) = [j for j in api.get(f"/{name}/autolabel/jobs").json()["value"] if j["status"] not in (
                "succeeded", "failed", "cancelled")]
            url = f"/{name}/autolabel/jobs/{job['jobId']}"
            wait(driver, lambda d: api.get(url).json()["status"] == "cancelling", poll=0.1)
    finally:
        gate.set()
    wait(driver, lambda d: job_area.get_attribute("data-status") == "cancelled", timeout=60, poll=0.2)
    words = driver.find_element(By.ID, "autolabel-status").text
    with server.api(key) as api:
        job = api.get(url).json()
        after = api.get("/../quota").json()
    r = job["result"]
    assert job["status"] == "cancelled" and r["documents"] == 4 and r["documentsDone"] == 2
    assert r["textRecords"] == 4 and r["textRecordsCharged"] == 2 and r["textRecordsRefunded"] == 2
    assert after["remaining"] == before["remaining"] - 2
    s = r["suggestions"]
    assert words == f"The job was cancelled after 2 documents ({s} suggestion{'s' if s != 1 else ''})."
    assert not driver.find_element(By.ID, "cancel-autolabel").is_displayed()


def test_train_on_a_percentage_split_from_the_page(server, driver, project):
    key, name = project
    open_page(driver, server, key, f"/p/{name}")
    start_training(driver, "split30", test_share=30)
    wait(driver, lambda d: d.find_element(By.ID, "training-job").get_attribute("data-status") == "succeeded",
         timeout=240, poll=0.5)
    with server.api(key) as api:
        jobs = {j["result"]["modelLabel"]: j for j in api.get(f"/{name}/train/jobs").json()["value"]}
        summary = api.get(f"/{name}/models/split30/evaluation/summary-result").json()
    assert jobs["split30"]["status"] == "succeeded"
    assert jobs["split30"]["result"]["trainingConfigVersion"] == "onehot-char"
    assert summary["evaluationOptions"] == {"kind": "percentage", "trainingSplitPercentage": 70,
                                            "testingSplitPercentage": 30}
    driver.find_element(By.CSS_SELECTOR, "#training-job a.model-link").click()
    shown(driver, "table.entity-scores")
    assert "evaluated on a 30% test split." in driver.find_element(By.CSS_SELECTOR, ".screen-head .meta").text
