"""The studio's fast review queue (#/p/{project}/queue) in a real headless Chromium against a
real spanledger server: one suggestion at a time in its sentence, lowest confidence first (or
by entity), A accepts, X rejects, Space skips, U undoes, each decision saved at once; checked
against what the API then holds. Suggestions are recorded through the application (no
training), as test_studio.py does. SQLite only. The browser: conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.conftest import viewport
from tests.browser.test_studio import document, keys, open_page, screenshot, shown, spans, suggest, wait
from tests.conftest import Api, LiveServer, live_server

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select
except ImportError:  # reported by the `driver` fixture (conftest.py)
    pass

REPORT = "Ana Silva met Rui Costa at Acme Corp in Porto. It went well."
MEMO = "Globex hired a lawyer.\nShe moved to Lisbon last May."
NOTE = "A note on Initech."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from live_server("sqlite", tmp_path_factory.mktemp("studio-queue"))


@pytest.fixture
def api(server: LiveServer) -> Iterator[Api]:
    with server.api() as client:
        yield client


def project_with_suggestions(server: LiveServer, api: Api) -> str:
    project = api.new_project(entities=("Org", "Person", "Place"))
    for name, text in (("report", REPORT), ("memo", MEMO), ("note", NOTE)):
        api.put(f"/{project}/documents/{name}", json={"text": text})
    suggest(server, api.key, project, "report", [("Person", 0, 9, 0.91), ("Person", 14, 9, 0.42)])
    suggest(server, api.key, project, "memo", [("Org", 0, 6, 0.30), ("Place", 36, 6, 0.55)])
    suggest(server, api.key, project, "note", [("Org", 10, 7, 0.95)])
    return project


def current(chrome) -> tuple[str, str, str]:
    """(the highlighted text, its document, its confidence) of the suggestion on show."""
    return (chrome.find_element(By.ID, "q-span").text, chrome.find_element(By.ID, "q-doc").text,
            chrome.find_element(By.ID, "q-confidence").text.split()[-1])


def showing(chrome, text: str, doc: str) -> None:
    wait(chrome, lambda d: d.find_element(By.ID, "q-current").is_displayed() and current(d)[:2] == (text, doc))


def tab_to(chrome, predicate: str, limit: int = 40) -> None:
    for _ in range(limit):
        keys(chrome, Keys.TAB)
        if chrome.execute_script(f"const e = document.activeElement; return Boolean({predicate});"):
            assert chrome.execute_script("return getComputedStyle(document.activeElement).outlineStyle") != "none"
            return
    raise AssertionError(f"Tab never reached {predicate}")


def pending(api: Api, project: str, name: str) -> set[tuple[str, int, int]]:
    return spans(document(api, project, name)["suggestions"])


def route_order(api: Api, project: str, **params: str) -> list[tuple[str, str, str]]:
    """(text, document, confidence) of the pending suggestions, in the order the API's queue has them."""
    answer = api.get(f"/{project}/autolabel/suggestions", params=params)
    assert answer.status_code == 200, answer.text
    return [(q["text"], q["documentName"], f"{q['confidenceScore']:.2f}") for q in answer.json()["value"]]


def test_the_queue_with_the_keyboard_alone(server, driver, api):
    project = project_with_suggestions(server, api)
    open_page(driver, server, api.key, f"/p/{project}")
    wait(driver, lambda d: d.find_element(By.TAG_NAME, "h1").text == project)
    tab_to(driver, "e.id === 'queue-link'")
    keys(driver, Keys.ENTER)

    # Lowest confidence first, in its sentence (up to the line break), with entity and job.
    showing(driver, "Globex", "memo")
    assert current(driver)[2] == "0.30"
    assert current(driver) == route_order(api, project)[0]  # the API's own queue, in its order
    assert driver.find_element(By.ID, "q-sentence").text.startswith("GlobexOrg hired a lawyer.")
    assert "Lisbon" not in driver.find_element(By.ID, "q-sentence").text
    assert "model m1 · job job-1" in driver.find_element(By.ID, "q-where").text
    assert driver.find_element(By.ID, "q-entity-name").text == "Org"
    assert "5 suggestions left" in driver.find_element(By.ID, "q-counter").text
    jobs = [o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "#q-job option")]
    assert jobs == ["", "job-1"]

    # A accepts: a label in the API at once, and the next one is shown.
    keys(driver, "a")
    showing(driver, "Rui Costa", "report")
    assert driver.find_element(By.ID, "q-sentence").text == "Ana Silva met Rui CostaPerson at Acme Corp in Porto."
    memo = document(api, project, "memo")
    assert ("Org", 0, 6) in spans(memo["labels"]) and spans(memo["suggestions"]) == {("Place", 36, 6)}
    assert driver.find_element(By.ID, "q-live").text.startswith("Accepted Org “Globex”.")

    # X rejects it in the API; Space skips the next one (still pending there).
    keys(driver, "x")
    showing(driver, "Lisbon", "memo")
    assert pending(api, project, "report") == {("Person", 0, 9)}
    assert spans(document(api, project, "report")["labels"]) == set()
    screenshot(driver, "queue")
    keys(driver, " ")
    showing(driver, "Ana Silva", "report")
    assert pending(api, project, "memo") == {("Place", 36, 6)}
    assert "Skipped Place “Lisbon”" in driver.find_element(By.ID, "q-live").text

    # U undoes the last decision (the rejection): pending again in the API, and shown again.
    keys(driver, "u")
    showing(driver, "Rui Costa", "report")
    assert pending(api, project, "report") == {("Person", 0, 9), ("Person", 14, 9)}
    counter = driver.find_element(By.ID, "q-counter").text
    assert "1 decision in this session (1 accepted, 0 rejected, 1 undone)" in counter
    assert "a minute" in counter and "4 suggestions left (1 skipped)" in counter

    # Ordering by entity: Org (Initech, 0.95) comes first now.
    tab_to(driver, "e.id === 'q-order'")
    keys(driver, Keys.ARROW_DOWN)
    showing(driver, "Initech", "note")
    order = route_order(api, project, orderby="entity")
    assert current(driver) == order[0] and order[1][:2] == ("Rui Costa", "report")
    offered = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "q-order")).options]
    assert offered == ["confidence", "entity", "job", "document"]  # the route's orders, all of them
    tab_to(driver, "e.id === 'q-accept'")
    keys(driver, " ")  # Space skips even on a button: it does not press it
    showing(driver, "Rui Costa", "report")
    assert "4 suggestions left (1 skipped)" in driver.find_element(By.ID, "q-counter").text
    assert pending(api, project, "note") == {("Org", 10, 7)}

    # Accept every one left: the queue ends saying so, and nothing is pending in the API.
    for left in (3, 2, 1, 0):
        keys(driver, "a")
        wait(driver, lambda d, n=left: f"{n} suggestion{'' if n == 1 else 's'} left" in d.find_element(
            By.ID, "q-counter").text)
    empty = shown(driver, "#q-empty")
    assert empty.text == "No suggestions to review."
    assert driver.execute_script("return document.activeElement.id") == "q-empty"
    assert api.get(f"/{project}/autolabel/pending").json()["totalSuggestions"] == 0
    assert spans(document(api, project, "report")["labels"]) == {("Person", 0, 9), ("Person", 14, 9)}
    assert "5 decisions in this session (5 accepted" in driver.find_element(By.ID, "q-counter").text


def test_refusals_in_words_decided_elsewhere_and_an_undo_after_another_change(server, driver, api):
    project = project_with_suggestions(server, api)
    other = server.api(server.another_key(api.key))
    open_page(driver, server, api.key, f"/p/{project}/queue")
    showing(driver, "Globex", "memo")
    # Gathered from the API's queue alone: no document is read for it.
    reads = driver.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    assert any("/autolabel/suggestions?" in r for r in reads)
    assert not any(f"/projects/{project}/documents" in r for r in reads), reads

    # Meanwhile someone else rejects the suggestion on show: A is refused in words, the queue moves on.
    suggestion = document(api, project, "memo")["suggestions"]
    globex = next(s["id"] for s in suggestion if s["category"] == "Org")
    assert other.post(f"/{project}/documents/memo/suggestions/{globex}/:reject").status_code == 200
    keys(driver, "a")
    problem = shown(driver, "#q-problem")
    assert "Not accepted:" in problem.text and "not pending" in problem.text and "409" not in problem.text
    showing(driver, "Rui Costa", "report")
    assert ("Org", 0, 6) not in spans(document(api, project, "memo")["labels"])

    # A decision here, then someone else changes that document: U says why it cannot undo.
    keys(driver, "x")
    showing(driver, "Lisbon", "memo")
    wrote = other.post(f"/{project}/documents/report/labels", json={"category": "Place", "offset": 40, "length": 5})
    assert wrote.status_code == 201
    keys(driver, "u")
    problem = wait(driver, lambda d: "Cannot undo" in d.find_element(By.ID, "q-problem").text
                   and d.find_element(By.ID, "q-problem"))
    assert "changed by someone else" in problem.text and "412" not in problem.text
    assert pending(api, project, "report") == {("Person", 0, 9)}  # the rejection stands
    keys(driver, "u")
    wait(driver, lambda d: "Nothing to undo" in d.find_element(By.ID, "q-problem").text)

    # The documents list's pending filter links to the queue, on its entity.
    open_page(driver, server, api.key, f"/p/{project}")
    shown(driver, "input[type=radio][value=pending]").click()
    Select(shown(driver, "select[name=entityFilter]")).select_by_value("Org")
    wait(driver, lambda d: [a.text for a in d.find_elements(By.CSS_SELECTOR, "a.doc-link")] == ["note"])
    shown(driver, "#pending-queue-link").click()
    showing(driver, "Initech", "note")
    assert driver.find_element(By.ID, "q-entity").get_attribute("value") == "Org"
    assert "1 suggestion left" in driver.find_element(By.ID, "q-counter").text
    Select(driver.find_element(By.ID, "q-entity")).select_by_value("")
    showing(driver, "Lisbon", "memo")
    assert "3 suggestions left" in driver.find_element(By.ID, "q-counter").text

    # Undoing an acceptance: the label goes, the suggestion is pending again and shown again.
    tab_to(driver, "e.id === 'q-accept'")
    keys(driver, "a")
    showing(driver, "Ana Silva", "report")
    assert spans(document(api, project, "memo")["labels"]) == {("Place", 36, 6)}
    keys(driver, "u")
    showing(driver, "Lisbon", "memo")
    assert wait(driver, lambda d: "pending again" in d.find_element(By.ID, "q-live").text)
    memo = document(api, project, "memo")
    assert memo["labels"] == [] and spans(memo["suggestions"]) == {("Place", 36, 6)}

    # A narrow window: nothing sticks out sideways.
    viewport(driver, 400, 800)
    try:
        width = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1]
    finally:
        viewport(driver, 1280, 800)


def test_a_long_sentence_is_cut_where_the_context_ends(server, driver, api):
    project = api.new_project(entities=("Person",))
    text = "Intro. " + "word " * 30 + "Ana Silva" + " more" * 30 + ". End."
    api.put(f"/{project}/documents/long", json={"text": text})
    suggest(server, api.key, project, "long", [("Person", text.index("Ana"), 9, 0.5)])
    open_page(driver, server, api.key, f"/p/{project}/queue")
    showing(driver, "Ana Silva", "long")
    sentence = driver.find_element(By.ID, "q-sentence").text
    assert sentence.startswith("…word") and sentence.endswith("more…") and "Intro" not in sentence
    assert "Ana SilvaPerson more" in sentence
